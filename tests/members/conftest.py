"""A managed supergroup with the growth feature in the sandbox's Telegram, and its GMBot rows.

`Managed.deliver()` feeds the updates the sandbox produced for the bot to the worker's entry
point (apps.ingress.dispatch.process_update), for the tests that skip the webhook and the queue;
the end-to-end tests use the real web process and workers instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from apps.bots.models import Bot
from apps.chats.models import Group
from apps.growth.models import GrowthProfile
from apps.ingress import dispatch, services
from apps.members.models import MemberActivity
from apps.members.services import buffer
from sandbox.client import Sandbox

GROUP_RIGHTS = {"can_delete_messages": True, "can_restrict_members": True,
                "can_invite_users": True}  # fmt: skip


@dataclass
class Managed:
    sandbox: Sandbox
    bot: Bot
    owner: int
    chat_id: int
    group: Group
    seen: int = 0

    def deliver(self) -> None:
        while True:
            fresh = self.sandbox.updates(bot=self.bot.username, since=self.seen)
            if not fresh:
                return
            for item in fresh:
                self.seen = max(self.seen, item["update_id"])
                dispatch.process_update(self.bot.pk, item["update"])

    def skip_pending(self) -> None:
        fresh = self.sandbox.updates(bot=self.bot.username, since=self.seen)
        self.seen = max([self.seen, *(item["update_id"] for item in fresh)])

    def member(self, name: str, status: str = "member") -> int:
        """A member from before the bot watched (the change is not delivered)."""
        user_id = int(self.sandbox.create_user(name)["id"])
        self.sandbox.set_member(self.chat_id, user_id, status)
        self.skip_pending()
        return user_id

    def silent_since(self, user_id: int, days: int, *, is_bot: bool = False) -> MemberActivity:
        """Given: the member has been tracked and silent for `days` days."""
        at = timezone.now() - timedelta(days=days)
        row, _ = MemberActivity.objects.update_or_create(
            group=self.group, user_id=user_id,
            defaults={"is_bot": is_bot, "joined_at": at, "first_seen_at": at, "active_at": at,
                      "last_message_at": None, "updated_at": at},
        )  # fmt: skip
        return row

    def calls(self, method: str) -> list[dict[str, Any]]:
        return [
            call
            for call in self.sandbox.calls(bot=self.bot.username, method=method)
            if call["status"] == 200
        ]

    def status(self, user_id: int) -> str:
        return str(self.sandbox.member(self.chat_id, user_id)["status"])


def make_managed(
    sandbox: Sandbox, make_bot: Any, webhook: str | None = None, **profile: Any
) -> Managed:
    """The group, its bot (running growth) and its profile; with `webhook` (the web process's
    URL) the bot's webhook points there before anything happens in the group."""
    bot = make_bot(features=["growth"])
    if webhook is not None:
        services.set_webhook(bot, webhook, max_connections=8)
    owner = int(sandbox.create_user("Olga")["id"])
    chat_id = int(sandbox.create_chat("supergroup", title="Growing", owner_id=owner)["id"])
    sandbox.add_bot(bot.username, chat_id, status="administrator", **GROUP_RIGHTS)
    group = Group.objects.create(bot=bot, chat_id=chat_id, title="Growing")
    GrowthProfile.objects.create(group=group, **profile)
    world = Managed(sandbox, bot, owner, chat_id, group)
    world.skip_pending()
    return world


@pytest.fixture
def managed(sandbox, make_bot) -> Managed:
    return make_managed(sandbox, make_bot)


@pytest.fixture(autouse=True)
def _fresh_buffer(redis_client):
    """Every test starts with an empty buffer and a fresh connection (REDIS_URL may move)."""
    redis_client.flushdb()
    buffer.reset()
    yield
    buffer.reset()


def ago(**delta: float) -> datetime:
    return timezone.now() - timedelta(**delta)
