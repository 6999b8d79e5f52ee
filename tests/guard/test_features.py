"""The guard beside other features: each bot runs exactly its own features, observers see every
update before the handlers, and a button reaches the feature that sent it (apps/bots/features.py).
The tests' own features are in tests/features.py."""

from __future__ import annotations

import pytest
from telebot.types import InlineKeyboardButton, InlineKeyboardMarkup

from apps.bots.context import context_for
from apps.chats.models import Channel, Group, GroupChannelLink
from apps.guard import keyboards, texts
from apps.guard.models import GroupProtection
from tests.guard.conftest import Guarded, guarded_world

pytestmark = pytest.mark.django_db


def test_a_private_start_reaches_the_feature_each_bot_runs(sandbox, make_bot, test_features):
    # given a guard bot and a points bot on one deployment, and a user who starts both
    guard = Guarded(sandbox, make_bot(), 0, 0, 0, "")
    points = Guarded(sandbox, make_bot(features=["points"]), 0, 0, 0, "")
    ann = int(sandbox.create_user("Ann")["id"])

    # when she starts each, the points bot with a referrer
    sandbox.start(ann, guard.bot.username)
    sandbox.start(ann, points.bot.username, payload="ref42")
    guard.deliver()
    points.deliver()

    # then each bot answered with its own feature
    assert [c["params"]["text"] for c in guard.calls("sendMessage", ann)] == [texts.HELP]
    assert [c["params"]["text"] for c in points.calls("sendMessage", ann)] == [
        "points: /start ref42"
    ]


def test_a_group_message_reaches_the_observers_and_the_guard_though_one_observer_fails(
    sandbox, make_bot, test_features, caplog
):
    # given a protected group whose bot also runs a failing observer and the audit observer
    world = guarded_world(sandbox, make_bot(features=["flaky", "audit", "guard"]))
    world.say(world.owner, "/protect @news")
    nick = world.user("Nick", subscribed=False)

    # when a non-subscriber writes
    sent = sandbox.message(nick, world.group, "buy my stuff")
    world.deliver()

    # then the audit observer saw the update, the failure was logged, and the guard enforced
    assert (world.bot.pk, sent["update_ids"][0]) in test_features.SEEN
    assert "observer flaky_observer failed" in caplog.text
    assert not world.present(sent["message_id"])
    assert world.status(nick) == "restricted"


def test_a_bot_without_the_guard_never_enforces(sandbox, make_bot, test_features):
    # given a points bot, admin of a group with a protection the guard would enforce
    world = guarded_world(sandbox, make_bot(features=["points", "audit"]))
    group = Group.objects.create(bot=world.bot, chat_id=world.group, title="Fans")
    GroupProtection.objects.create(group=group)
    channel = Channel.objects.create(bot=world.bot, chat_id=world.channel, username="news")
    GroupChannelLink.objects.create(group=group, channel=channel)

    # when a non-subscriber writes, then runs a guard command
    nick = world.user("Nick", subscribed=False)
    sent = sandbox.message(nick, world.group, "buy my stuff")
    command = sandbox.message(nick, world.group, "/status")
    world.deliver()

    # then the observer saw both, and nothing was enforced or answered
    assert {(world.bot.pk, sent["update_ids"][0]), (world.bot.pk, command["update_ids"][0])} <= (
        set(test_features.SEEN)
    )
    assert world.present(sent["message_id"])
    assert world.calls("deleteMessage") == world.calls("restrictChatMember") == []
    assert world.calls("sendMessage", world.group) == []


def test_each_button_reaches_the_feature_that_sent_it(sandbox, make_bot, test_features):
    # given a protected group whose bot also runs audit, and a message with both features' buttons
    world = guarded_world(sandbox, make_bot(features=["guard", "audit"]))
    world.say(world.owner, "/protect @news")
    nick = world.user("Nick", subscribed=False)
    markup = InlineKeyboardMarkup()
    markup.row(InlineKeyboardButton("verify", callback_data=keyboards.verify_data(nick)))
    markup.row(InlineKeyboardButton("audit", callback_data=test_features.AUDIT_BUTTON))
    bot = context_for(world.bot.pk)
    assert bot is not None
    sent = bot.telebot.send_message(world.group, "two buttons", reply_markup=markup)
    otto = world.user("Otto", subscribed=True)

    # when someone else presses each
    for data in (keyboards.verify_data(nick), test_features.AUDIT_BUTTON):
        sandbox.press(otto, world.group, sent.message_id, data=data)
    world.deliver()

    # then the guard answered its button and audit its own
    answers = [call["params"]["text"] for call in world.calls("answerCallbackQuery")]
    assert answers == [texts.VERIFY_NOT_YOURS, test_features.AUDITED]
