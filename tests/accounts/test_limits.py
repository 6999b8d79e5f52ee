"""The command limit (SPEC D6): 10 commands per user per bot in any 60 s, counted in Redis;
beyond that one polite refusal per window, nothing run, and silence for the rest."""

from __future__ import annotations

import time

import pytest

from apps.accounts import texts

pytestmark = pytest.mark.django_db


def test_the_eleventh_command_in_a_minute_is_refused_once_and_nothing_more_runs(
    chats, redis_client
):
    # given Ana, who started the bot (her first command)
    ana = chats.user("Ana")
    chats.start(ana)

    # when she sends twelve more commands at once
    for _ in range(12):
        chats.say(ana, "/help")

    # then nine more ran, the eleventh was refused politely, the last two got nothing
    sent = chats.texts(ana)
    assert sent.count(texts.HELP) == 9
    assert len(sent) == 11
    assert sent[-1].startswith("⏳ That is more than 10 commands a minute")
    window = f"gmbot:accounts:limit:{{{chats.bot.pk}:{ana}}}"
    assert redis_client.zcard(window) == 10
    assert 0 < redis_client.pttl(window) <= 60_000


def test_another_user_or_another_bot_has_a_limit_of_its_own(chats, make_bot):
    # given Ana at her limit with the bot
    ana, ben = chats.user("Ana"), chats.user("Ben")
    for _ in range(11):
        chats.say(ana, "/help")
    other = make_bot(features=["accounts"])

    # when Ben writes to the same bot and Ana to another one
    chats.say(ben, "/help")
    chats.say(ana, "/help", bot=other)

    # then both are answered
    assert chats.texts(ben) == [texts.HELP]
    assert chats.texts(ana, bot=other) == [texts.HELP]


def test_a_user_past_the_limit_is_answered_again_once_the_window_has_room(chats, settings):
    # given a limit of 2 commands in 3 seconds, and Ana over it
    settings.ACCOUNTS_COMMAND_LIMIT, settings.ACCOUNTS_COMMAND_WINDOW_SECONDS = 2, 3
    ana = chats.user("Ana")
    for _ in range(4):
        chats.say(ana, "/help")
    refused = chats.texts(ana)

    # when the window has passed and she sends another command
    time.sleep(3.2)
    chats.say(ana, "/help")

    # then it runs
    assert [text == texts.HELP for text in refused] == [True, True, False]
    assert chats.texts(ana)[-1] == texts.HELP
