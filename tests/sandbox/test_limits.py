"""Flood limits: 429 with retry_after at Telegram's rates (compressed by time_scale)."""

from __future__ import annotations

import time
from typing import Any

import requests

from sandbox.client import Sandbox
from tests.sandbox.conftest import TOKEN


def send(sb: Sandbox, chat_id: int, text: str = "x") -> requests.Response:
    return requests.get(
        sb.api_url(TOKEN, "sendMessage"), params={"chat_id": chat_id, "text": text}, timeout=5
    )


def test_a_group_takes_twenty_messages_then_answers_429(sb: Sandbox, world: dict[str, Any]) -> None:
    sb.set_limits(enabled=True, time_scale=10)
    group = world["group"]["id"]
    answers = [send(sb, group) for _ in range(21)]
    assert [a.status_code for a in answers[:20]] == [200] * 20
    refused = answers[20]
    body = refused.json()
    assert refused.status_code == 429
    assert body["error_code"] == 429
    retry_after = body["parameters"]["retry_after"]
    assert body["description"] == f"Too Many Requests: retry after {retry_after}"
    assert refused.headers["Retry-After"] == str(retry_after)
    # 20/min refills one message every 3 s, 0.3 s at time_scale=10.
    time.sleep(0.35)
    assert send(sb, group).status_code == 200
    assert send(sb, group).status_code == 429


def test_a_private_chat_allows_a_small_burst_then_one_per_second(
    sb: Sandbox, world: dict[str, Any]
) -> None:
    sb.set_limits(enabled=True, time_scale=10)
    bob = world["bob"]["id"]
    sb.start(bob, "guard_bot")
    codes = [send(sb, bob).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    time.sleep(0.12)
    assert send(sb, bob).status_code == 200


def test_other_chats_are_not_slowed_by_a_busy_one(sb: Sandbox, world: dict[str, Any]) -> None:
    sb.set_limits(enabled=True, time_scale=10)
    other = sb.create_chat("supergroup", title="Other")["id"]
    sb.add_bot("guard_bot", other, status="administrator", by=world["alice"]["id"])
    for _ in range(20):
        send(sb, world["group"]["id"])
    assert send(sb, world["group"]["id"]).status_code == 429
    assert send(sb, other).status_code == 200


def test_a_bot_gets_thirty_messages_per_second_overall(sb: Sandbox, world: dict[str, Any]) -> None:
    # time_scale 0.1 slows the refill so that 31 sequential requests surely fit in one window;
    # the per-group limit is lifted so only the bot-wide one can refuse.
    sb.set_limits(enabled=True, time_scale=0.1, group_per_minute=6000, group_burst=100)
    codes = [send(sb, world["group"]["id"]).status_code for _ in range(31)]
    assert codes[:30] == [200] * 30
    assert codes[30] == 429


def test_calls_that_send_no_message_are_not_limited(sb: Sandbox, world: dict[str, Any]) -> None:
    # Telegram publishes no limit for them; the sandbox does not make one up
    sb.set_limits(enabled=True, time_scale=0.1)
    url = sb.api_url(TOKEN, "getChatMember")
    params = {"chat_id": world["group"]["id"], "user_id": world["bob"]["id"]}
    codes = [requests.get(url, params=params, timeout=5).status_code for _ in range(40)]
    assert codes == [200] * 40


def test_limits_can_be_switched_off(sb: Sandbox, world: dict[str, Any]) -> None:
    sb.set_limits(enabled=False)
    assert all(send(sb, world["group"]["id"]).status_code == 200 for _ in range(40))
