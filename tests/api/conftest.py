"""Two owners with their own bots and groups, and keys for them: the world the API tests use."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pytest
from django.test import Client

from apps.api.models import APIKey
from apps.bots.models import Bot, Owner
from apps.broadcasts.models import Broadcast
from apps.chats.models import Group, GroupChannelLink
from apps.guard.models import GroupProtection
from apps.live.models import LiveEntry
from tests.factories import BotFactory, ChannelFactory, GroupFactory, OwnerFactory


@dataclass
class Tenant:
    owner: Owner
    key: str
    bot: Bot
    groups: list[Group] = field(default_factory=list)


@pytest.fixture
def make_key(db) -> Callable[..., str]:
    """A new API key (the full `prefix.secret`, as the holder would send it)."""

    def make(owner: Owner | None = None, *, staff: bool = False, **fields: Any) -> str:
        fields.setdefault("name", "tests")
        _, key = APIKey.objects.create_key(owner=owner, is_staff=staff, **fields)
        return key

    return make


def protected_group(bot: Bot, *, paused_at: datetime | None = None, **fields: Any) -> Group:
    """An enabled group of `bot` that requires one channel, as /protect leaves it (paused when
    `paused_at` is given)."""
    group = GroupFactory(bot=bot, **fields)
    GroupProtection.objects.create(group=group, paused_at=paused_at)
    GroupChannelLink.objects.create(group=group, channel=ChannelFactory(bot=bot))
    return group


@pytest.fixture
def tenants(make_key) -> tuple[Tenant, Tenant]:
    """Owners A and B, each with a bot (guard and broadcasts), a protected group, a disabled group,
    a group without channels, a live entry and a broadcast; plus a group of A's on B's bot, which
    both may see (A owns the group, B the bot)."""
    world = []
    for name in ("a", "b"):
        owner = OwnerFactory(username=f"tenant_{name}")
        bot = BotFactory(owner=owner, username=f"tenant_{name}_bot",
                         features=["guard", "broadcasts"])  # fmt: skip
        tenant = Tenant(owner, make_key(owner), bot)
        tenant.groups = [
            protected_group(bot, owner=owner, title=f"{name} protected"),
            protected_group(bot, owner=owner, title=f"{name} disabled", enabled=False),
            GroupFactory(bot=bot, owner=owner, title=f"{name} without channels"),
        ]
        live = LiveEntry.objects.create(
            owner=owner, platform="tiktok", handle=f"streamer_{name}", url=f"https://t.me/{name}"
        )
        # A broadcast planned long ago: the API reads and deletes it, no job is queued here.
        Broadcast.objects.create(bot=bot, live=live, text=f"{name} is live", status="done")
        world.append(tenant)
    a, b = world
    shared = protected_group(b.bot, owner=a.owner, title="a's group on b's bot")
    a.groups.append(shared)
    b.groups.append(shared)
    return a, b


def call(client: Client, key: str | None, path: str, method: str = "get", **params: Any) -> Any:
    """An API request with the key in X-API-Key (or none)."""
    headers = {"X-API-Key": key} if key else {}
    return getattr(client, method)(path, params, headers=headers)


def ids(answer: Any) -> list[int]:
    """The ids of a listing's page, once it answered 200."""
    assert answer.status_code == 200, answer.json()
    return [row["id"] for row in answer.json()["results"]]
