"""A bot that runs growth, admin of a supergroup that takes join requests and of a channel
linked to it, in the sandbox's Telegram and in GMBot's database; and the helpers the growth
tests share. Real PostgreSQL, Redis and the sandbox over HTTP."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import pytest

from apps.bots.models import Bot
from apps.chats.models import Channel, Group, GroupChannelLink
from apps.growth.models import GrowthProfile, JoinRequest
from apps.growth.services import executing
from apps.ingress import dispatch
from sandbox.client import Sandbox

GROUP_RIGHTS = {"can_invite_users": True, "can_restrict_members": True,
                "can_delete_messages": True}  # fmt: skip


@dataclass
class Growing:
    sandbox: Sandbox
    bot: Bot
    owner: int
    group: Group
    channel: Channel
    profile: GrowthProfile
    seen: int = 0

    @property
    def chat(self) -> int:
        return self.group.chat_id

    def deliver(self) -> None:
        """Every update the sandbox produced for the bot, to the worker's entry point."""
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

    def user(self, name: str, *, subscribed: bool = False) -> int:
        user_id = int(self.sandbox.create_user(name)["id"])
        if subscribed:
            self.sandbox.set_member(self.channel.chat_id, user_id, "member")
        self.skip_pending()
        return user_id

    def request(self, user_id: int) -> None:
        assert self.sandbox.join(user_id, self.chat)["status"] == "requested"

    def calls(self, method: str, chat_id: int | None = None) -> list[dict[str, Any]]:
        return [
            call
            for call in self.sandbox.calls(bot=self.bot.username, method=method, chat_id=chat_id)
            if call["status"] == 200
        ]

    def status(self, user_id: int) -> str:
        return str(self.sandbox.member(self.chat, user_id)["status"])

    def set_phase(self, phase: str) -> None:
        GrowthProfile.objects.filter(pk=self.profile.pk).update(phase=phase)
        self.profile.refresh_from_db()

    def execute(self, timeout: float = 30) -> int:
        """Work the group's queue here, as its executor jobs would, waiting out countdowns."""
        deadline = time.monotonic() + timeout
        executed = 0
        while True:
            batch = executing.do_execute_batch(self.group.pk)
            executed += batch.executed
            if batch.countdown is None:
                return executed
            assert time.monotonic() < deadline, "the queue did not drain"
            time.sleep(batch.countdown)

    def row(self, user_id: int) -> JoinRequest:
        return JoinRequest.objects.get(group=self.group, user_id=user_id)


def make_growing(sandbox: Sandbox, make_bot: Any, **profile: Any) -> Growing:
    bot = make_bot(features=["growth"])
    owner = int(sandbox.create_user("Olga", username="olga")["id"])
    chat = sandbox.create_chat("supergroup", title="Growing", join_by_request=True, owner_id=owner)[
        "id"
    ]
    channel_chat = sandbox.create_chat(
        "channel", title="News", username="growing_news", owner_id=owner
    )["id"]
    sandbox.add_bot(bot.username, chat, status="administrator", **GROUP_RIGHTS)
    sandbox.add_bot(bot.username, channel_chat, status="administrator")
    group = Group.objects.create(bot=bot, chat_id=chat, title="Growing")
    channel = Channel.objects.create(
        bot=bot, chat_id=channel_chat, title="News", username="growing_news"
    )
    GroupChannelLink.objects.create(group=group, channel=channel)
    made = Growing(sandbox, bot, owner, group, channel, GrowthProfile.objects.create(
        group=group, **profile))  # fmt: skip
    made.skip_pending()
    return made


@pytest.fixture(autouse=True)
def _empty_redis(redis_client):
    """Paces, marks and caches start empty: ids repeat from test to test."""
    redis_client.flushdb()
    yield


@pytest.fixture
def fast(settings: Any) -> None:
    settings.GROWTH_JOIN_RATE = 50.0
    settings.GROWTH_BATCH_SECONDS = 5


@pytest.fixture
def growing(sandbox: Sandbox, make_bot: Any, fast: None) -> Growing:
    return make_growing(sandbox, make_bot)
