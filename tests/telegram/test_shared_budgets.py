"""Budgets shared by separate processes (SPEC T2): two senders, one set of budgets, no 429."""

from __future__ import annotations

import multiprocessing
import random
from typing import Any

import pytest
from django.conf import settings

from apps.bots.models import Bot
from tests.conftest import database_url_for_children
from tests.telegram import drivers
from tests.telegram.timing import kept

pytestmark = pytest.mark.django_db

SCALE = 10  # Telegram's windows and ours, ten times shorter so the test takes seconds


def test_two_processes_keep_every_budget_and_get_no_429(sandbox: Any, bot: Bot) -> None:
    # Given one busy group, one busy private chat and 100 other chats (half groups, half users).
    sandbox.set_limits(time_scale=SCALE)
    group = int(sandbox.create_chat("supergroup", title="Busy")["id"])
    sandbox.add_bot(bot.username, group)
    private = int(sandbox.create_user("Pat")["id"])
    sandbox.start(private, bot.username)
    others = []
    for n in range(50):
        chat = int(sandbox.create_chat("supergroup", title=f"Group {n}")["id"])
        sandbox.add_bot(bot.username, chat)
        user = int(sandbox.create_user(f"User {n}")["id"])
        sandbox.start(user, bot.username)
        others += [chat, user]
    # 300 messages: 40 to the group (two windows' worth), 60 to the private chat, 2 to each other.
    plan = [group] * 40 + [private] * 60 + others * 2
    random.Random(4).shuffle(plan)

    # When two processes send them, half each, under budgets scaled like the sandbox's limits.
    env = {
        "DJANGO_SETTINGS_MODULE": "gmbot.settings",
        "DATABASE_URL": database_url_for_children(),
        "REDIS_URL": settings.REDIS_URL,
        "TELEGRAM_API_URL": sandbox.bot_api_url,
        "TELEGRAM_BOT_WINDOW_MS": str(1000 // SCALE),
        "TELEGRAM_GROUP_WINDOW_MS": str(60_000 // SCALE),
        "TELEGRAM_PRIVATE_WINDOW_MS": str(1000 // SCALE),
        "TELEGRAM_BUDGET_MAX_WAIT_MS": str(1000 // SCALE),
    }
    context = multiprocessing.get_context("spawn")
    barrier, out = context.Barrier(2), context.Queue()
    token = f"{bot.telegram_id}:sandbox-token-{bot.username}"
    senders = [
        context.Process(target=drivers.send_all, args=(env, token, plan[half::2], barrier, out))
        for half in (0, 1)
    ]
    for sender in senders:
        sender.start()
    reports = [out.get(timeout=45) for _ in senders]
    for sender in senders:
        sender.join(timeout=10)

    # Then every message went out once, Telegram never refused one, and every budget held.
    assert [report["errors"] for report in reports] == [[], []]
    calls = sandbox.calls(bot=bot.username, method="sendMessage")
    assert len(calls) == 300
    assert {call["status"] for call in calls} == {200}
    window = 1 / SCALE
    assert kept(calls, 25, window)
    by_chat: dict[int, list[dict[str, Any]]] = {}
    for call in calls:
        by_chat.setdefault(int(call["params"]["chat_id"]), []).append(call)
    for chat_id, chat_calls in by_chat.items():
        if chat_id < 0:
            assert kept(chat_calls, 20, 60 * window), chat_id
        else:
            assert kept(chat_calls, 1, window), chat_id
    # The group's second 20 had to wait for the window: the budget, not luck, kept it.
    assert sum(report["rate_limited"] for report in reports) >= 20
