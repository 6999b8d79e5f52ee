"""Paid broadcasting (allow_paid_broadcast, the bot's Stars) and deleteMessage's 48-hour rule,
as api.json describes them, driven with pyTelegramBotAPI."""

from __future__ import annotations

from typing import Any

import requests
import telebot

from sandbox.client import Sandbox
from tests.sandbox.conftest import TOKEN
from tests.sandbox.test_telebot_methods import refusal


def paid_send(sb: Sandbox, chat_id: int) -> requests.Response:
    return requests.post(
        sb.api_url(TOKEN, "sendMessage"),
        json={"chat_id": chat_id, "text": "live now", "allow_paid_broadcast": True},
        timeout=5,
    )


def groups(sb: Sandbox, world: dict[str, Any], count: int) -> list[int]:
    made = []
    for n in range(count):
        chat = sb.create_chat("supergroup", title=f"G{n}", owner_id=world["alice"]["id"])
        sb.add_bot("guard_bot", chat["id"], status="administrator")
        made.append(chat["id"])
    return made


def test_a_paid_message_costs_a_tenth_of_a_star_until_the_balance_runs_out(
    tb: telebot.TeleBot, sb: Sandbox, world: dict[str, Any]
) -> None:
    # given a bot with 0.2 Stars
    sb.set_star_balance("guard_bot", 0.2)
    group = world["group"]["id"]

    # when it sends three paid messages
    answers = [paid_send(sb, group) for _ in range(3)]

    # then two go out, the third is refused with Telegram's error, and the balance says so
    assert [a.status_code for a in answers] == [200, 200, 400]
    assert answers[2].json()["description"] == "Bad Request: BALANCE_TOO_LOW"
    balance = tb.get_my_star_balance()
    assert (balance.amount, balance.nanostar_amount) == (0, 0)
    assert refusal(lambda: tb.send_message(group, "x", allow_paid_broadcast=True))[:2] == (
        400,
        "Bad Request: BALANCE_TOO_LOW",
    )
    # an ordinary message costs nothing
    assert tb.send_message(group, "free").text == "free"


def test_paid_messages_pass_the_bot_wide_limit_but_not_a_chats(
    sb: Sandbox, world: dict[str, Any]
) -> None:
    # given limits on (slowed down, so the windows stay put during the test) and Stars enough
    sb.set_limits(enabled=True, time_scale=0.1)
    sb.set_star_balance("guard_bot", 100)
    chats = groups(sb, world, 40)

    # when 40 groups get one paid message each, then one group a 21st message
    codes = [paid_send(sb, chat).status_code for chat in chats]
    more = [paid_send(sb, chats[0]).status_code for _ in range(20)]

    # then all 40 passed (30/s would have refused the 31st), the group's own limit held (20 in
    # a burst), and only what was sent was paid for
    assert codes == [200] * 40
    assert more == [200] * 19 + [429]
    assert sb.bot("guard_bot")["star_balance"] == round(100 - 0.1 * 59, 9)


def test_the_paid_limit_refuses_past_its_own_rate(sb: Sandbox, world: dict[str, Any]) -> None:
    sb.set_limits(enabled=True, time_scale=0.1, paid_per_second=5, paid_burst=5)
    sb.set_star_balance("guard_bot", 10)
    chats = groups(sb, world, 6)
    codes = [paid_send(sb, chat).status_code for chat in chats]
    assert codes == [200] * 5 + [429]


def test_a_message_older_than_48_hours_cannot_be_deleted(
    tb: telebot.TeleBot, sb: Sandbox, world: dict[str, Any]
) -> None:
    # given two messages of the bot's, one of them sent 48 hours ago by the sandbox's clock
    group = world["group"]["id"]
    old = tb.send_message(group, "old")
    before = sb.clock()["now"]
    sb.advance_clock(48 * 3600)
    fresh = tb.send_message(group, "fresh")

    # then the clock moved, the old one is refused and the fresh one deleted
    assert sb.clock()["now"] >= before + 48 * 3600
    assert refusal(lambda: tb.delete_message(group, old.message_id))[:2] == (
        400,
        "Bad Request: message can't be deleted for everyone",
    )
    assert tb.delete_message(group, fresh.message_id) is True
    # deleteMessages skips what it can't delete
    assert tb.delete_messages(group, [old.message_id]) is True
    left = [m["message_id"] for m in sb.messages(group)]
    assert old.message_id in left and fresh.message_id not in left

    # and a reset puts the clock back
    sb.reset()
    assert sb.clock()["offset"] == 0


def test_a_fault_can_concern_one_chat_only(sb: Sandbox, world: dict[str, Any]) -> None:
    first, second = groups(sb, world, 2)
    sb.fault("sendMessage", error_code=400, description="Bad Request: chat not found",
             chat_id=second)  # fmt: skip
    assert free_send(sb, first) == 200
    assert free_send(sb, second) == 400


def free_send(sb: Sandbox, chat_id: int) -> int:
    answer = requests.post(
        sb.api_url(TOKEN, "sendMessage"), json={"chat_id": chat_id, "text": "x"}, timeout=5
    )
    return answer.status_code
