"""Webhook delivery: secret header, redelivery after errors and timeouts, order per chat,
max_connections."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests

from sandbox.client import Sandbox
from sandbox.testing import free_port
from tests.sandbox.conftest import TOKEN


class Receiver:
    """A webhook endpoint on 127.0.0.1; `behaviour(n)` returns (status, delay) for delivery n."""

    def __init__(self, behaviour: Callable[[int], tuple[int, float]]) -> None:
        self.behaviour = behaviour
        self.received: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.active = 0
        self.max_active = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with receiver.lock:
                    number = len(receiver.received)
                    receiver.received.append(
                        {
                            "update": body,
                            "secret": self.headers.get("X-Telegram-Bot-Api-Secret-Token"),
                            "at": time.monotonic(),
                        }
                    )
                    receiver.active += 1
                    receiver.max_active = max(receiver.max_active, receiver.active)
                status, delay = receiver.behaviour(number)
                time.sleep(delay)
                with receiver.lock:
                    receiver.active -= 1
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:
                    pass

            def log_message(self, *args: Any) -> None:
                pass

        self.port = free_port()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receivers() -> Iterator[Callable[[Callable[[int], tuple[int, float]]], Receiver]]:
    made: list[Receiver] = []

    def make(behaviour: Callable[[int], tuple[int, float]]) -> Receiver:
        made.append(Receiver(behaviour))
        return made[-1]

    yield make
    for receiver in made:
        receiver.close()


def set_webhook(sb: Sandbox, url: str, **params: Any) -> None:
    answer = requests.post(sb.api_url(TOKEN, "setWebhook"), data={"url": url, **params}, timeout=5)
    assert answer.json()["ok"], answer.text


def wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def webhook_info(sb: Sandbox) -> dict[str, Any]:
    return requests.get(sb.api_url(TOKEN, "getWebhookInfo"), timeout=5).json()["result"]


def test_updates_are_posted_with_the_secret_header(sb: Sandbox, world: Any, receivers: Any) -> None:
    receiver = receivers(lambda n: (200, 0))
    set_webhook(sb, receiver.url, secret_token="s3cr3t-token")
    produced = sb.message(world["bob"]["id"], world["group"]["id"], "/start")["update_ids"]
    wait_for(lambda: produced[0] in [r["update"]["update_id"] for r in receiver.received])
    assert {r["secret"] for r in receiver.received} == {"s3cr3t-token"}
    wait_for(lambda: webhook_info(sb)["pending_update_count"] == 0)


def test_a_500_is_redelivered_and_reported(sb: Sandbox, world: Any, receivers: Any) -> None:
    sb.set_limits(time_scale=10, webhook_backoff_cap=4)
    receiver = receivers(lambda n: (500, 0) if n < 2 else (200, 0))
    set_webhook(sb, receiver.url, drop_pending_updates="true")
    update_id = sb.message(world["bob"]["id"], world["group"]["id"], "/help")["update_ids"][0]
    wait_for(lambda: len(receiver.received) >= 3)
    ids = [r["update"]["update_id"] for r in receiver.received]
    assert ids == [update_id] * 3
    gaps = [
        b["at"] - a["at"] for a, b in zip(receiver.received, receiver.received[1:], strict=False)
    ]
    assert 0.08 <= gaps[0] < gaps[1]  # 1 s then 2 s, at time_scale=10
    info = webhook_info(sb)
    assert (
        info["last_error_message"] == "Wrong response from the webhook: 500 Internal Server Error"
    )
    assert isinstance(info["last_error_date"], int)
    wait_for(lambda: webhook_info(sb)["pending_update_count"] == 0)
    report = sb.webhook("guard_bot")
    assert len(report["failures"]) == 2 and report["deliveries"] == [update_id]


def test_a_timeout_is_redelivered(sb: Sandbox, world: Any, receivers: Any) -> None:
    sb.set_limits(time_scale=10, webhook_timeout=0.3)
    receiver = receivers(lambda n: (200, 1.0) if n == 0 else (200, 0))
    set_webhook(sb, receiver.url, drop_pending_updates="true")
    update_id = sb.message(world["bob"]["id"], world["group"]["id"], "/help")["update_ids"][0]
    wait_for(lambda: len(receiver.received) >= 2)
    assert [r["update"]["update_id"] for r in receiver.received] == [update_id] * 2
    assert sb.webhook("guard_bot")["failures"][0]["error"] == "Read timeout expired"


def test_order_is_kept_per_chat_within_max_connections(
    sb: Sandbox, world: Any, receivers: Any
) -> None:
    receiver = receivers(lambda n: (200, 0.05 if n % 3 == 0 else 0.0))
    other = sb.create_chat("supergroup", title="Other", owner_id=world["alice"]["id"])["id"]
    sb.add_bot("guard_bot", other, status="administrator")
    set_webhook(sb, receiver.url, drop_pending_updates="true", max_connections="2")
    expected: dict[int, list[int]] = {world["group"]["id"]: [], other: []}
    for i in range(10):
        for chat in expected:
            expected[chat] += sb.message(world["alice"]["id"], chat, f"m{i}")["update_ids"]
    wait_for(lambda: len(receiver.received) == 20)
    for chat, ids in expected.items():
        seen = [
            r["update"]["update_id"]
            for r in receiver.received
            if r["update"]["message"]["chat"]["id"] == chat
        ]
        assert seen == ids
    assert receiver.max_active <= 2


def test_get_updates_is_a_conflict_while_a_webhook_is_set(sb: Sandbox, world: Any) -> None:
    set_webhook(sb, "http://127.0.0.1:9/none")
    answer = requests.get(sb.api_url(TOKEN, "getUpdates"), timeout=5)
    assert answer.status_code == 409
    assert answer.json()["description"] == (
        "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to "
        "delete the webhook first"
    )
