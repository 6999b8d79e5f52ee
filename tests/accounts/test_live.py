"""Checking who is live (SPEC D3): one point for a fresh view, its pages free for 10 minutes by
editing the same message, a charge once per press; nothing charged when nobody is live; out of
points, the user is told how to earn more."""

from __future__ import annotations

import pytest

from apps.accounts import keyboards, texts
from apps.accounts.models import LedgerEntry
from apps.live.models import LiveEntry

pytestmark = pytest.mark.django_db


def started(chats, name: str = "Ana") -> tuple[int, int]:
    """A user who started the bot, and the id of the menu message she got."""
    user = chats.user(name)
    chats.start(user)
    return user, chats.last(user)["message_id"]


def test_check_live_costs_one_point_and_its_pages_are_free_edits_of_one_message(
    chats, live_now, redis_client
):
    # given seven streamers live now and Ana with her 10 points
    live_now(7)
    ana, menu = started(chats)

    # when she presses «Who's live», then Next and Previous
    chats.press(ana, menu, keyboards.LIVE)
    shown = chats.last(ana)
    first_page = shown["text"]
    chats.press(ana, shown["message_id"], keyboards.PAGE + "2")
    second_page = chats.last(ana)["text"]
    chats.press(ana, shown["message_id"], keyboards.PAGE + "1")

    # then one point went, for one ledger row; the list came once and was edited in place
    assert chats.account(ana).points == 9
    assert list(
        chats.account(ana)
        .ledger.filter(reason=LedgerEntry.CHECK_LIVE)
        .values_list("delta", flat=True)
    ) == [-1]
    lists = [t for t in chats.texts(ana) if t.startswith("🔴 Live now")]
    assert lists == [first_page]
    assert first_page.splitlines()[:2] == [
        "🔴 Live now: page 1 of 2 (7 live)",
        "1. Stream 0: twitch/streamer0, live for 0 min",
    ]
    assert texts.LIVE_PAID.format(balance=9) in first_page
    assert "6. Stream 5" in second_page and "Stream 4" not in second_page
    assert "offline" not in first_page + second_page
    edits = chats.calls("editMessageText", ana)
    assert [int(e["params"]["message_id"]) for e in edits] == [shown["message_id"]] * 2
    assert chats.last(ana)["text"].startswith("🔴 Live now: page 1 of 2")
    view = f"gmbot:accounts:view:{chats.bot.pk}:{ana}:{shown['message_id']}"
    assert 590 <= redis_client.ttl(view) <= 600


def test_a_page_of_a_view_past_its_ten_minutes_asks_for_a_fresh_check(
    chats, live_now, redis_client
):
    # given Ana's paid view, whose ten minutes are over
    live_now(6)
    ana, menu = started(chats)
    chats.press(ana, menu, keyboards.LIVE)
    shown = chats.last(ana)
    redis_client.delete(f"gmbot:accounts:view:{chats.bot.pk}:{ana}:{shown['message_id']}")

    # when she turns the page
    chats.press(ana, shown["message_id"], keyboards.PAGE + "2")

    # then she is told to check again; nothing was edited or charged
    answers = chats.calls("answerCallbackQuery")
    assert answers[-1]["params"]["text"] == texts.VIEW_EXPIRED
    assert chats.calls("editMessageText") == []
    assert chats.account(ana).points == 9


def test_checking_when_nobody_is_live_costs_nothing(chats):
    # given nobody live
    ana, menu = started(chats)

    # when Ana presses «Who's live» and sends /live
    chats.press(ana, menu, keyboards.LIVE)
    chats.say(ana, "/live")

    # then she is told so twice, and keeps her points
    assert chats.calls("answerCallbackQuery")[-1]["params"]["text"] == texts.NOBODY_LIVE
    assert chats.texts(ana)[-1] == texts.NOBODY_LIVE
    assert chats.account(ana).points == 10


def test_out_of_points_the_user_is_told_how_to_earn_more_and_charged_nothing(chats, live_now):
    # given Ana, who spent her 10 points on 10 checks
    live_now(1)
    ana, menu = started(chats)
    for _ in range(10):
        chats.press(ana, menu, keyboards.LIVE)

    # when she presses once more, then sends /live
    chats.press(ana, menu, keyboards.LIVE)
    chats.say(ana, "/live")

    # then her balance is 0 (never below), the list came 10 times, and she learnt how to earn
    account = chats.account(ana)
    assert account.points == 0
    assert sum(account.ledger.values_list("delta", flat=True)) == 0
    assert len([t for t in chats.texts(ana) if t.startswith("🔴 Live now")]) == 10
    assert chats.calls("answerCallbackQuery")[-1]["params"]["text"] == texts.NO_POINTS_ALERT
    how = texts.NO_POINTS.format(link=f"https://t.me/{chats.bot.username}?start=ref_{ana}")
    assert chats.last(ana)["text"] == how  # the /live answer
    edited = chats.calls("editMessageText", ana)[-1]["params"]
    assert (int(edited["message_id"]), edited["text"]) == (menu, how)  # the pressed menu
    assert "📣 Share my link" in chats.buttons(chats.last(ana))


def test_a_page_turn_after_streamers_went_offline_shows_the_last_page_there_is(chats, live_now):
    # given Ana's view of seven streamers, three of whom have ended their live since
    ids = live_now(7)
    ana, menu = started(chats)
    chats.press(ana, menu, keyboards.LIVE)
    shown = chats.last(ana)
    LiveEntry.objects.filter(pk__in=ids[:3]).update(is_live=False)

    # when she presses Next
    chats.press(ana, shown["message_id"], keyboards.PAGE + "2")

    # then the one page left is shown, without page buttons
    text = chats.last(ana)["text"]
    assert text.startswith("🔴 Live now: page 1 of 1 (4 live)\n1. Stream 3")
    assert not [
        b for b in chats.buttons(chats.last(ana)) if b in (texts.BUTTON_NEXT, texts.BUTTON_PREVIOUS)
    ]
