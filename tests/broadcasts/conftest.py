"""A bot that runs the broadcasts feature, its owner, a live entry and groups in the sandbox's
Telegram (limits on) and in GMBot's database; and `run`, which drives a broadcast in this process
through the very services the `normal` and `low` jobs call, until it has nothing left to do.

Real PostgreSQL, Redis and the sandbox over HTTP; tests/broadcasts/test_end_to_end.py runs the
same with real workers behind the API."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import pytest

from apps.bots.models import Bot, Owner
from apps.broadcasts.models import Broadcast, Delivery
from apps.broadcasts.services import creation, deletion, planning, sending
from apps.chats.models import Group
from apps.ingress import dispatch
from apps.live.models import LiveEntry
from sandbox.client import Sandbox

ADMIN_RIGHTS = {"can_delete_messages": True, "can_restrict_members": True}


@dataclass
class World:
    sandbox: Sandbox
    bot: Bot
    owner: Owner
    live: LiveEntry
    groups: list[Group] = field(default_factory=list)
    seen: int = 0

    def add_group(self, title: str, kind: str = "supergroup", **fields: Any) -> Group:
        chat = self.sandbox.create_chat(kind, title=title, owner_id=self.owner.telegram_id)
        self.sandbox.add_bot(self.bot.username, chat["id"], status="administrator",
                             **ADMIN_RIGHTS)  # fmt: skip
        group = Group.objects.create(
            bot=self.bot, chat_id=chat["id"], owner=self.owner, title=title, **fields
        )
        self.groups.append(group)
        self.skip_pending()
        return group

    def skip_pending(self) -> None:
        fresh = self.sandbox.updates(bot=self.bot.username, since=self.seen)
        self.seen = max([self.seen, *(item["update_id"] for item in fresh)])

    def deliver(self) -> None:
        """Every update the sandbox produced for the bot, to the worker's entry point."""
        while True:
            fresh = self.sandbox.updates(bot=self.bot.username, since=self.seen)
            if not fresh:
                return
            for item in fresh:
                self.seen = max(self.seen, item["update_id"])
                dispatch.process_update(self.bot.pk, item["update"])

    def broadcast(self, **fields: Any) -> Broadcast:
        """A broadcast of the live entry (JOIN LIVE and BAN), queued as the API queues it."""
        fields.setdefault("text", "We are live!")
        fields.setdefault("live", self.live)
        fields.setdefault("ban_button", True)
        spec = creation.BroadcastSpec.of(fields)
        creation.check_broadcast(self.bot, spec)
        return creation.do_create_broadcast(self.bot, spec)

    def sends(self, chat_id: int | None = None, method: str = "sendMessage") -> list[dict]:
        return [
            call
            for call in self.sandbox.calls(bot=self.bot.username, method=method, chat_id=chat_id)
            if call["status"] == 200
        ]


def run(broadcast: Broadcast, timeout: float = 30) -> Broadcast:
    """Plan and send (or delete) `broadcast` here, as its jobs would, waiting out countdowns."""
    deadline = time.monotonic() + timeout
    planning.do_plan(broadcast.pk)
    step = deletion.do_delete_batch if broadcast.deletion else sending.do_send_batch
    while (countdown := step(broadcast.pk)) is not None:
        assert time.monotonic() < deadline, "the broadcast did not finish"
        time.sleep(countdown)
    broadcast.refresh_from_db()
    return broadcast


def delete_everywhere(broadcast: Broadcast, timeout: float = 30) -> dict[str, int]:
    deletion.do_request_deletion(broadcast)
    broadcast.refresh_from_db()
    run(broadcast, timeout)
    outcomes: dict[str, int] = {}
    for row in broadcast.deliveries.exclude(deletion=""):
        outcomes[row.deletion] = outcomes.get(row.deletion, 0) + 1
    return outcomes


def statuses(broadcast: Broadcast) -> dict[int, str]:
    return dict(broadcast.deliveries.values_list("group_id", "status"))


def delivery(broadcast: Broadcast, group: Group) -> Delivery:
    return broadcast.deliveries.get(group=group)


@pytest.fixture(autouse=True)
def _empty_redis(redis_client):
    """Budgets, leases and claims start empty: bot ids repeat from test to test."""
    redis_client.flushdb()
    yield


@pytest.fixture
def fast(settings: Any) -> None:
    """Short spacing, so a test's broadcasts to one group follow each other in milliseconds;
    the real 3 s has a test of its own."""
    settings.TELEGRAM_GROUP_SPACING_MS = 20
    settings.TELEGRAM_BULK_LIMIT = 25
    settings.BROADCAST_LEASE_SECONDS = 5


@pytest.fixture
def world(sandbox: Sandbox, make_bot: Any, fast: None) -> World:
    """An owner (who started the bot), the bot running broadcasts, a live entry, three groups."""
    user = sandbox.create_user("Olga", username="olga")
    owner = Owner.objects.create(telegram_id=user["id"], username="olga")
    bot = make_bot(owner=owner, features=["broadcasts"])
    sandbox.start(user["id"], bot.username)
    live = LiveEntry.objects.create(
        owner=owner, platform="tiktok", handle="olga", title="Olga live",
        url="https://www.tiktok.com/@olga/live", is_live=True,
    )  # fmt: skip
    made = World(sandbox, bot, owner, live)
    for title in ("Cats", "Dogs", "Birds"):
        made.add_group(title)
    return made
