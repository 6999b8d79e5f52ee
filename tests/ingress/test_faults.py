"""Telegram failing in each of its ways while a real worker answers a real update (issue 4).

The update enters through the webhook (in-process), a worker on `high` runs the handler, and the
sandbox answers the handler's sendMessage with the fault under test.
"""

from __future__ import annotations

import itertools
import json

import pytest

from apps.bots.services import forget_cached_bots
from apps.chats.models import Group, UnreachableChat
from apps.ops.models import DeadLetter
from tests.conftest import wait_until
from tests.factories import GroupFactory

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SECRET = "faults-test-webhook-secret"
INTERNAL_ERROR = "Internal Server Error"


@pytest.fixture
def bot(make_bot):
    forget_cached_bots()
    return make_bot(webhook_secret=SECRET)


@pytest.fixture
def worker(start_worker):
    # Fast backoff keeps the three transient retries within a second or two.
    return start_worker(["high"], concurrency=1, TASK_RETRY_BACKOFF_BASE="0.2")


@pytest.fixture
def user(sandbox, bot):
    ann = sandbox.create_user("Ann")
    sandbox.start(ann["id"], bot.username)
    return ann


def deliver(client, update: dict) -> None:
    answer = client.post("/api/webhooks/telegram", data=json.dumps(update),
                         content_type="application/json",
                         HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN=SECRET)  # fmt: skip
    assert answer.status_code == 200


def produced(sandbox, action: dict) -> list[dict]:
    """The updates (as Telegram sends them) that a sandbox action produced."""
    ids = set(action["update_ids"])
    return [entry["update"] for entry in sandbox.updates() if entry["update_id"] in ids]


def ask_for_help(client, sandbox, user, bot) -> None:
    (update,) = produced(sandbox, sandbox.message(user["id"], None, "/help", bot=bot.username))
    deliver(client, update)


def sends(sandbox, user) -> list[dict]:
    return sandbox.calls(method="sendMessage", chat_id=user["id"])


def test_three_429s_are_each_waited_out_and_the_message_goes_out(
    client, sandbox, bot, user, worker
):
    sandbox.fault("sendMessage", error_code=429, retry_after=2, times=3)

    ask_for_help(client, sandbox, user, bot)

    calls = wait_until(lambda: [c for c in sends(sandbox, user) if c["status"] == 200]
                       and sends(sandbox, user), timeout=20)  # fmt: skip
    assert [call["status"] for call in calls] == [429, 429, 429, 200]
    gaps = [later["time"] - earlier["time"] for earlier, later in itertools.pairwise(calls)]
    assert all(gap >= 2.0 for gap in gaps), gaps
    assert not DeadLetter.objects.exists()


def test_four_500s_are_three_retries_then_a_dead_letter_that_replays_once(
    client, admin_client, sandbox, bot, user, worker
):
    sandbox.fault("sendMessage", error_code=500, description=INTERNAL_ERROR, times=4)

    ask_for_help(client, sandbox, user, bot)

    letter = wait_until(lambda: DeadLetter.objects.first(), timeout=20)
    assert [call["status"] for call in sends(sandbox, user)] == [500] * 4
    assert (letter.task_name, letter.queue, letter.attempts) == (
        "tasks.high.process_update",
        "high",
        4,
    )
    assert letter.description == INTERNAL_ERROR

    replay = admin_client.post("/admin/dlq/high/replay", {"ids": [letter.pk]},
                               content_type="application/json")  # fmt: skip
    again = admin_client.post("/admin/dlq/high/replay", {"ids": [letter.pk]},
                              content_type="application/json")  # fmt: skip

    assert replay.status_code == 200 and again.json()["replayed"] == []
    wait_until(lambda: sends(sandbox, user)[-1]["status"] == 200, timeout=30)
    wait_until(lambda: not worker_busy(client), timeout=5)
    assert [call["status"] for call in sends(sandbox, user)] == [500] * 4 + [200]


def worker_busy(client) -> bool:
    from gmbot.redis import get_redis

    return bool(get_redis().llen("high"))


def test_a_user_who_blocked_the_bot_is_marked_unreachable_without_a_retry(
    client, sandbox, bot, user, worker
):
    (update,) = produced(sandbox, sandbox.message(user["id"], None, "/help", bot=bot.username))
    sandbox.block(user["id"], bot.username)

    deliver(client, update)

    marked = wait_until(lambda: UnreachableChat.objects.filter(chat_id=user["id"]).first())
    assert marked.bot_id == bot.pk
    calls = sends(sandbox, user)
    assert [call["status"] for call in calls] == [403]
    assert calls[0]["response"]["description"] == "Forbidden: bot was blocked by the user"
    assert not DeadLetter.objects.exists()


def test_a_group_upgraded_to_a_supergroup_has_its_stored_id_updated(client, sandbox, bot, worker):
    owner = sandbox.create_user("Owner")
    chat = sandbox.create_chat("group", title="Upgrading", owner_id=owner["id"])
    sandbox.add_bot(bot.username, chat["id"], status="administrator")
    group = GroupFactory(bot=bot, chat_id=chat["id"])

    migrated = sandbox.migrate(chat["id"], by=owner["id"])
    for update in produced(sandbox, migrated):
        deliver(client, update)

    wait_until(lambda: Group.objects.get(pk=group.pk).chat_id == migrated["chat_id"])
    assert Group.objects.get(pk=group.pk).chat_id < -1_000_000_000_000
