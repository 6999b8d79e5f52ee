"""Budgets in Redis (SPEC T2), one process: what they let through, delay or refuse."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import pytest
import redis
from telebot import TeleBot

from apps.bots.models import Bot
from apps.telegram import ratelimit
from apps.telegram.errors import RateLimited
from apps.telegram.traffic import bulk_traffic
from tests.conftest import free_port
from tests.telegram.timing import JITTER, kept, most_in_any_window

pytestmark = pytest.mark.django_db


def started_users(sandbox: Any, bot: Bot, count: int) -> list[int]:
    users = []
    for n in range(count):
        user_id = int(sandbox.create_user(f"User {n}")["id"])
        sandbox.start(user_id, bot.username)
        users.append(user_id)
    return users


def test_the_budgets_a_call_draws_on() -> None:
    def names(
        method: str, chat_id: int | str | None, bulk: bool = False, paid: int = 0
    ) -> list[str]:
        budgets = ratelimit.budgets_for(7, method, chat_id, bulk, paid)
        return [budget.name for budget in budgets]

    assert names("sendMessage", 42) == ["calls", "bot", "private"]
    assert names("sendPhoto", -1001) == ["calls", "bot", "group"]
    # bulk messages are also spaced per chat (SPEC B2)
    assert names("copyMessage", "@channel", bulk=True) == [
        "calls", "bot", "bulk", "group", "spacing",
    ]  # fmt: skip
    # a paid message passes the paid rate instead of the bot-wide budgets, never a chat's
    assert names("sendPhoto", -1001, bulk=True, paid=1000) == ["paid", "group", "spacing"]
    paid = ratelimit.budgets_for(7, "sendMessage", -1001, True, 1000)[0]
    assert (paid.limit, paid.window) == (20, 0.02)
    # Telegram's per-bot limit counts messages; other calls pass our own ceiling only
    assert names("restrictChatMember", -1001) == ["calls"]
    assert names("banChatMember", -1001, bulk=True) == ["calls", "bulk"]
    assert names("getUpdates", None, bulk=True) == []


def test_a_short_wait_sleeps_then_sends(
    sandbox: Any, bot: Bot, telebot: TeleBot, settings: Any
) -> None:
    settings.TELEGRAM_PRIVATE_WINDOW_MS = 300
    [user] = started_users(sandbox, bot, 1)

    telebot.send_message(user, "one")
    telebot.send_message(user, "two")

    first, second = sandbox.calls(method="sendMessage")
    assert (first["status"], second["status"]) == (200, 200)
    assert second["time"] - first["time"] >= 0.3 - JITTER


def test_a_long_wait_raises_rate_limited_and_sends_nothing(
    sandbox: Any, bot: Bot, telebot: TeleBot, settings: Any
) -> None:
    settings.TELEGRAM_GROUP_LIMIT = 2
    group, other = (int(sandbox.create_chat("supergroup", title=t)["id"]) for t in "AB")
    for chat in (group, other):
        sandbox.add_bot(bot.username, chat)
    telebot.send_message(group, "one")
    telebot.send_message(group, "two")

    with pytest.raises(RateLimited) as raised:
        telebot.send_message(group, "three")

    assert 59 < raised.value.retry_after <= 60
    assert raised.value.chat_id == group
    telebot.send_message(other, "another group has its own budget")
    sent = [(int(c["params"]["chat_id"]), c["params"]["text"]) for c in sandbox.calls()]
    assert (group, "three") not in sent
    assert len(sent) == 3


def test_without_redis_calls_proceed_and_a_warning_is_logged(
    sandbox: Any, bot: Bot, telebot: TeleBot, monkeypatch: Any, caplog: Any
) -> None:
    [user] = started_users(sandbox, bot, 1)
    nobody = redis.Redis.from_url(f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=0.5)
    monkeypatch.setattr(ratelimit, "get_redis", lambda: nobody)
    monkeypatch.setattr(ratelimit, "_script", None)
    monkeypatch.setattr(ratelimit, "_redis_skipped_until", 0.0)

    with caplog.at_level(logging.WARNING, logger="apps.telegram.ratelimit"):
        telebot.send_message(user, "one")
        telebot.send_message(user, "two")

    assert [c["status"] for c in sandbox.calls(method="sendMessage")] == [200, 200]
    [warning] = caplog.records
    assert "Telegram budgets unavailable" in warning.getMessage()


def test_bulk_traffic_keeps_to_its_budget_while_interactive_calls_pass(
    sandbox: Any, bot: Bot, telebot: TeleBot, settings: Any
) -> None:
    # Telegram's limits and ours, ten times faster: per bot 25 per 100 ms, bulk 5 per 100 ms.
    sandbox.set_limits(time_scale=10)
    settings.TELEGRAM_BOT_WINDOW_MS = 100
    settings.TELEGRAM_BULK_WINDOW_MS = 100
    settings.TELEGRAM_PRIVATE_WINDOW_MS = 100
    settings.TELEGRAM_BUDGET_MAX_WAIT_MS = 100
    users = started_users(sandbox, bot, 90)
    bulk_users, interactive_users = users[:30], users[30:]
    stop = threading.Event()

    def broadcast() -> None:
        # What a broadcast on the low queue does: send, and on RateLimited come back later.
        with bulk_traffic():
            for n in range(10_000):
                if stop.is_set():
                    return
                try:
                    telebot.send_message(bulk_users[n % len(bulk_users)], f"bulk {n}")
                except RateLimited as exc:
                    time.sleep(exc.retry_after)

    sender = threading.Thread(target=broadcast)
    sender.start()
    time.sleep(0.3)
    latencies = []
    try:
        for user in interactive_users:
            started = time.monotonic()
            telebot.send_message(user, "interactive")
            latencies.append(time.monotonic() - started)
        time.sleep(0.3)
    finally:
        stop.set()
        sender.join()

    calls = sandbox.calls(method="sendMessage")
    bulk = [c for c in calls if c["params"]["text"].startswith("bulk")]
    interactive = [c for c in calls if c["params"]["text"] == "interactive"]
    assert {c["status"] for c in calls} == {200}
    assert len(interactive) == 60
    assert most_in_any_window((c["time"] for c in bulk), 0.1) >= 5  # the broadcast did push
    assert kept(bulk, 5, 0.1)
    assert kept(calls, 25, 0.1)
    # Bulk takes 5 of every 25 slots, so 60 interactive calls need about three windows.
    assert max(latencies) < 0.1 + 0.05
    assert interactive[-1]["time"] - interactive[0]["time"] < 0.6
