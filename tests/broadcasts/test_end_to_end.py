"""Broadcasts end to end: the API, real workers on `normal` and `low`, the sandbox with its
limits on; and every worker killed mid-broadcast (SIGKILL) and started again."""

from __future__ import annotations

import contextlib
import json
import os
import signal
from collections import Counter
from typing import Any

import pytest

from apps.broadcasts.models import Broadcast, Delivery, GroupBroadcasting
from tests.api.conftest import make_key  # noqa: F401 - the fixture, shared with the API tests
from tests.broadcasts.conftest import World
from tests.conftest import wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

WORKER_ENV = {"TELEGRAM_BULK_LIMIT": "10", "BROADCAST_LEASE_SECONDS": "2",
              "BROADCAST_BATCH_SIZE": "5"}  # fmt: skip


def start(client: Any, key: str, body: dict[str, Any]) -> int:
    answer = client.post("/api/send_messages", json.dumps(body), content_type="application/json",
                         headers={"X-API-Key": key})  # fmt: skip
    assert answer.status_code == 201, answer.json()
    return int(answer.json()["id"])


def progress(client: Any, key: str, pk: int) -> dict[str, Any]:
    return client.get(f"/api/broadcasts/{pk}", headers={"X-API-Key": key}).json()


def test_a_broadcast_through_the_api_and_the_workers_reaches_every_group_once_and_no_429(
    client, world: World, make_key, start_worker,  # noqa: F811
):  # fmt: skip
    # given twelve groups, one of which allows no final message, and workers as the Procfile
    for n in range(9):
        world.add_group(f"Group {n}")
    GroupBroadcasting.objects.create(group=world.groups[-1], final_message_allowed=False)
    start_worker(["normal"], **WORKER_ENV)
    start_worker(["low"], **WORKER_ENV)
    key = make_key(world.owner)

    # when a photo broadcast with both buttons is sent through the API
    pk = start(client, key, {"bot": world.bot.telegram_id, "text": "Live!",
                             "photo": "https://example.com/p.jpg", "live": world.live.pk,
                             "ban_button": True})  # fmt: skip

    # then it is done, and its progress says what each group got
    done = wait_until(lambda: (p := progress(client, key, pk))["status"] == "done" and p, 40)
    assert {k: done["progress"][k] for k in ("targets", "sent", "skipped", "failed", "unknown",
                                             "pending")} == {
        "targets": 12, "sent": 11, "skipped": 1, "failed": 0, "unknown": 0, "pending": 0,
    }  # fmt: skip
    photos = world.sandbox.calls(bot=world.bot.username, method="sendPhoto")
    assert Counter(int(c["params"]["chat_id"]) for c in photos if c["status"] == 200) == {
        g.chat_id: 1 for g in world.groups[:-1]
    }
    # at the configured cap (10/s), Telegram never said 429
    assert [c for c in world.sandbox.calls(bot=world.bot.username) if c["status"] == 429] == []


def kill(pids: list[int]) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def test_every_worker_killed_mid_broadcast_then_started_again_finishes_it_never_twice(
    client, world: World, make_key, start_worker,  # noqa: F811
):  # fmt: skip
    # given twenty groups and a Telegram that takes a quarter second a message
    for n in range(17):
        world.add_group(f"Group {n}")
    world.sandbox.fault("sendMessage", delay_ms=250)
    normal = start_worker(["normal"], **WORKER_ENV)
    low = start_worker(["low"], **WORKER_ENV)
    key = make_key(world.owner)
    pk = start(client, key, {"bot": world.bot.telegram_id, "text": "Live!",
                             "live": world.live.pk})  # fmt: skip
    broadcast = Broadcast.objects.get(pk=pk)

    def sent() -> int:
        return broadcast.deliveries.filter(status=Delivery.Status.SENT).count()

    # when the low worker's child is killed mid-call, then (the job handed back and taken up
    # again) every worker, parents and children at once
    wait_until(lambda: sent() >= 3, 30)
    kill(low.child_pids())
    wait_until(lambda: sent() >= 9, 40)
    kill([*low.child_pids(), low.process.pid, *normal.child_pids(), normal.process.pid])
    for worker in (low, normal):
        worker.process.wait(timeout=10)
    stalled = sent()

    # and they are started again
    start_worker(["normal"], **WORKER_ENV)
    start_worker(["low"], **WORKER_ENV)

    # then the broadcast finishes: every target has exactly one outcome
    wait_until(lambda: Broadcast.objects.get(pk=pk).status == "done", 60)
    rows = list(broadcast.deliveries.all())
    assert len(rows) == 20
    outcomes = Counter(row.status for row in rows)
    assert set(outcomes) <= {"sent", "unknown"}, outcomes
    assert outcomes["unknown"] >= 1 and outcomes["sent"] > stalled
    # and no chat got the message twice, by the sandbox's own record
    posted = Counter(
        int(c["params"]["chat_id"])
        for c in world.sandbox.calls(bot=world.bot.username, method="sendMessage")
        if c["status"] == 200
    )
    assert max(posted.values()) == 1
    for row in rows:
        if row.status == "sent":
            assert posted[row.chat_id] == 1
