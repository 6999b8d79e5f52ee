"""A warning refused by the group's message budget (Telegram allows about 20 messages a minute in
a group) waits for the budget on its own: the member is muted and the message deleted once, the
update does not fail, and the warning follows when the budget has room — unless the member no
longer needs it."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import pytest

from apps.telegram import ratelimit
from tasks import high

pytestmark = pytest.mark.django_db

WINDOW_MS = 2000


@pytest.fixture
def tight_budget(protected, settings, redis_client, monkeypatch):
    """Two messages per group per 2 s, nothing waited for in a call; the budget starts empty
    (and in force, though an earlier test of this process took Redis away)."""
    monkeypatch.setattr(ratelimit, "_redis_skipped_until", 0.0)
    settings.TELEGRAM_GROUP_LIMIT = 2
    settings.TELEGRAM_GROUP_WINDOW_MS = WINDOW_MS
    settings.TELEGRAM_BUDGET_MAX_WAIT_MS = 0
    for key in [*redis_client.keys("tg:budget:*"), "high"]:
        redis_client.delete(key)
    return protected


def queued_warnings(redis_client) -> list[dict[str, Any]]:
    """The deferred-warning jobs waiting in the `high` queue, as the worker would read them."""
    jobs = []
    for raw in redis_client.lrange("high", 0, -1):
        message = json.loads(raw)
        if message["headers"]["task"] == "tasks.high.send_warning":
            args, _kwargs, _embed = json.loads(base64.b64decode(message["body"]))
            jobs.append({"args": args, "eta": message["headers"]["eta"]})
    return jobs


def test_a_warning_over_the_group_budget_waits_and_the_mute_is_not_repeated(
    tight_budget, redis_client
):
    world = tight_budget
    nick, amy, zed = (world.user(name, subscribed=False) for name in ("Nick", "Amy", "Zed"))
    world.say(nick, "buy my stuff")
    world.say(amy, "cheap followers")

    # when a third non-subscriber writes while the group's budget is spent
    message_id = world.say(zed, "DM me")  # deliver() would raise if the update failed

    # then Zed is muted and his message deleted, once, and his warning waits in `high`
    assert not world.present(message_id)
    assert world.status(zed) == "restricted"
    assert len([c for c in world.calls("restrictChatMember")
                if int(c["params"]["user_id"]) == zed]) == 1  # fmt: skip
    assert len(world.calls("deleteMessage")) == 3
    assert len(world.warnings()) == 2
    [job] = queued_warnings(redis_client)
    assert job["args"] == [world.bot.pk, world.group, zed, False] and job["eta"]

    # and when it runs, once the budget has room, Zed is warned — once, however often it runs
    time.sleep(WINDOW_MS / 1000)
    assert high.send_warning.run(*job["args"]) is True
    assert high.send_warning.run(*job["args"]) is False
    warnings = world.warnings()
    assert len(warnings) == 3 and warnings[-1]["params"]["text"].startswith("Zed")


def test_a_deferred_warning_is_dropped_for_a_member_who_joined_the_channel_meanwhile(
    tight_budget, redis_client
):
    world = tight_budget
    nick, amy, zed = (world.user(name, subscribed=False) for name in ("Nick", "Amy", "Zed"))
    for user in (nick, amy, zed):
        world.say(user, "hello")
    [job] = queued_warnings(redis_client)

    # when Zed joins the channel before the warning went out
    world.sandbox.set_member(world.channel, zed, "member")
    world.deliver()
    time.sleep(WINDOW_MS / 1000)

    # then the deferred warning sends nothing
    assert high.send_warning.run(*job["args"]) is False
    assert len(world.warnings()) == 2
