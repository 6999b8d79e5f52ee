"""A protected group in the sandbox's Telegram, and in-process delivery of what it produces.

`Guarded.deliver()` feeds every update the sandbox produced for the bot, in order, to
`apps.ingress.dispatch.process_update` — the worker's own entry point — until none is left (the
bot's actions produce updates too, as on Telegram). Real Redis, PostgreSQL and the sandbox over
HTTP; only the webhook and the queue are skipped (tests/guard/test_end_to_end.py covers them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
import requests

from apps.bots.models import Bot
from apps.ingress import dispatch, routing
from sandbox.client import Sandbox

GROUP_RIGHTS = {"can_delete_messages": True, "can_restrict_members": True}


@dataclass
class Guarded:
    sandbox: Sandbox
    bot: Bot
    owner: int
    group: int
    channel: int
    channel_name: str
    seen: int = 0
    extra_groups: list[int] = field(default_factory=list)

    def deliver(self) -> None:
        while True:
            fresh = self.sandbox.updates(bot=self.bot.username, since=self.seen)
            if not fresh:
                return
            for item in fresh:
                self.seen = max(self.seen, item["update_id"])
                dispatch.process_update(self.bot.pk, item["update"])

    def user(self, name: str, *, subscribed: bool, in_group: bool = True) -> int:
        """A member of the group from before it was protected (the join is not delivered);
        `sandbox.join` is the way to join while the bot watches."""
        user_id = int(self.sandbox.create_user(name)["id"])
        if subscribed:
            self.sandbox.set_member(self.channel, user_id, "member")
            self.deliver()
        if in_group:
            self.sandbox.set_member(self.group, user_id, "member")
            self.skip_pending()
        return user_id

    def skip_pending(self) -> None:
        """What happened so far is history the bot never heard of."""
        fresh = self.sandbox.updates(bot=self.bot.username, since=self.seen)
        self.seen = max([self.seen, *(item["update_id"] for item in fresh)])

    def say(self, user_id: int, text: str, chat: int | None = None, **kw: Any) -> int:
        message_id = int(
            self.sandbox.message(user_id, chat or self.group, text, **kw)["message_id"]
        )
        self.deliver()
        return message_id

    def calls(self, method: str, chat_id: int | None = None) -> list[dict[str, Any]]:
        return [
            call
            for call in self.sandbox.calls(bot=self.bot.username, method=method, chat_id=chat_id)
            if call["status"] == 200
        ]

    def warnings(self, chat_id: int | None = None) -> list[dict[str, Any]]:
        """Messages the bot posted in the group that carry a verify button."""
        return [
            call
            for call in self.calls("sendMessage", chat_id or self.group)
            if "reply_markup" in call["params"]
        ]

    def status(self, user_id: int, chat_id: int | None = None) -> str:
        return str(self.sandbox.member(chat_id or self.group, user_id)["status"])

    def can_write(self, user_id: int, chat_id: int | None = None) -> bool:
        member = self.sandbox.member(chat_id or self.group, user_id)
        return member["status"] == "member" or bool(member.get("can_send_messages"))

    def present(self, message_id: int, chat_id: int | None = None) -> bool:
        messages = self.sandbox.messages(chat_id or self.group, include_deleted=True)
        found = [m for m in messages if m["message_id"] == message_id]
        assert found, f"message {message_id} not in the chat"
        return not found[0].get("deleted")

    def add_group(self, title: str) -> int:
        group = int(self.sandbox.create_chat("supergroup", title=title, owner_id=self.owner)["id"])
        self.sandbox.add_bot(self.bot.username, group, status="administrator", **GROUP_RIGHTS)
        self.deliver()
        self.extra_groups.append(group)
        return group


def listen_to_everything(sandbox: Sandbox, bot: Bot) -> None:
    """Ask the sandbox for chat_member updates too, as `setwebhook` does (allowed_updates)."""
    answer = requests.post(
        sandbox.api_url(bot.token, "getUpdates"),
        json={"timeout": 0, "limit": 1, "allowed_updates": routing.ALLOWED_UPDATES},
        timeout=5,
    )
    assert answer.json()["ok"]


@pytest.fixture(autouse=True)
def _empty_redis(redis_client):
    """Every test starts without cached checks, warnings or claims (bot ids repeat per test)."""
    redis_client.flushdb()
    yield


@pytest.fixture
def world(sandbox, make_bot) -> Guarded:
    """A supergroup and a channel, both with the bot as an admin; nothing protected yet."""
    return guarded_world(sandbox, make_bot())


def guarded_world(sandbox: Sandbox, bot: Bot) -> Guarded:
    """The `world` of any bot (one that runs other features too, say)."""
    listen_to_everything(sandbox, bot)
    owner = int(sandbox.create_user("Olga", username="olga")["id"])
    sandbox.start(owner, bot.username)
    group = int(sandbox.create_chat("supergroup", title="Fans", owner_id=owner)["id"])
    channel = int(
        sandbox.create_chat("channel", title="News", username="news", owner_id=owner)["id"]
    )
    sandbox.add_bot(bot.username, group, status="administrator", **GROUP_RIGHTS)
    sandbox.add_bot(bot.username, channel, status="administrator")
    guarded = Guarded(sandbox, bot, owner, group, channel, "@news")
    guarded.deliver()
    return guarded


@pytest.fixture
def protected(world: Guarded) -> Guarded:
    """The same world after the owner ran /protect @news in the group."""
    world.say(world.owner, "/protect @news")
    return world
