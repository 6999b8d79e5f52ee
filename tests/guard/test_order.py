"""A chat's updates are acted on in the order Telegram sent them, whatever the concurrency.

The first test runs the whole way: the sandbox delivers to gunicorn, a real `high` worker with
the Procfile's pool runs eight jobs at once. The others feed `dispatch.process_update` in the
test process, with the chat's line as the webhook leaves it.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection

from apps.ingress import dispatch, ordering, services
from tests.conftest import wait_until
from tests.guard.conftest import Guarded

pytestmark = pytest.mark.django_db(transaction=True)

ACTIONS = ("restrictChatMember", "sendMessage", "deleteMessage")


def actions(world: Guarded, since: int) -> list[tuple[str, int]]:
    """What the bot did in the group since call `since`: (method, user or message id)."""
    done = []
    for call in world.sandbox.calls(bot=world.bot.username, chat_id=world.group, since=since):
        params = call["params"]
        if call["status"] != 200 or call["method"] not in ACTIONS:
            continue
        if call["method"] == "sendMessage":
            done.append((call["method"], int(call["response"]["result"]["message_id"])))
        else:
            done.append((call["method"], int(params.get("user_id") or params["message_id"])))
    return done


@pytest.mark.slow
def test_a_join_and_a_message_at_once_are_acted_on_in_that_order_by_a_concurrent_worker(
    protected: Guarded, start_web, start_worker
):
    # given the protected group served through the webhook by a worker running 8 jobs at once
    sandbox = protected.sandbox
    web = start_web()
    services.set_webhook(protected.bot, web.url, max_connections=8)
    start_worker(["high"], concurrency=8, pool="threads")
    # and Telegram slow to answer the join's membership check, so the message's job would
    # overtake it if nothing kept the chat's order
    sandbox.fault("getChatMember", delay_ms=500, times=1)
    nick = sandbox.create_user("Nick")["id"]
    since = sandbox.calls()[-1]["seq"]

    # when a non-subscriber joins and writes at once
    sandbox.join(nick, protected.group)
    message_id = sandbox.message(nick, protected.group, "hi")["message_id"]

    # then the join is enforced first: muted and warned; then the message: deleted, muted again
    done = wait_until(lambda: len(actions(protected, since)) >= 4 and actions(protected, since))
    warning = done[1][1]
    assert done == [
        ("restrictChatMember", nick),
        ("sendMessage", warning),
        ("deleteMessage", message_id),
        ("restrictChatMember", nick),
    ]


def test_an_update_behind_a_lost_job_runs_once_the_head_has_held_the_chat_too_long(
    protected: Guarded, redis_client, monkeypatch
):
    # given the chat's line headed by an update whose job was lost with its worker
    monkeypatch.setattr(ordering, "WAIT_SECONDS", 0.2)
    line = ordering.line_key(protected.bot.pk, protected.group)
    redis_client.rpush(line, "1")
    max_ = protected.user("Max", subscribed=False)

    # when a non-subscriber writes, the webhook putting the update in the line behind it
    sent = protected.sandbox.message(max_, protected.group, "spam")
    redis_client.rpush(line, *sent["update_ids"])
    protected.deliver()

    # then the message is enforced all the same, and the line is left empty
    assert not protected.present(sent["message_id"])
    assert protected.status(max_) == "restricted"
    assert redis_client.llen(line) == 0


def test_an_update_in_no_line_runs_at_once(protected: Guarded, redis_client):
    # given a line for the chat whose head will never run (a job waiting for a redelivery)
    line = ordering.line_key(protected.bot.pk, protected.group)
    redis_client.rpush(line, "1")
    max_ = protected.user("Max", subscribed=False)

    # when an update that was never put in the line arrives (queued while Redis was down)
    message_id = protected.say(max_, "spam")

    # then it is acted on without waiting for the head
    assert not protected.present(message_id)
    assert redis_client.lrange(line, 0, -1) == [b"1"]


def test_members_leaving_a_channel_do_not_wait_behind_each_other(
    protected: Guarded, redis_client, monkeypatch
):
    # given two subscribers the bot knows, and the first one's leave queued but not run (its
    # job waits for a redelivery), far from being passed
    monkeypatch.setattr(ordering, "WAIT_SECONDS", 60.0)
    ann = protected.user("Ann", subscribed=True)
    sue = protected.user("Sue", subscribed=True)
    protected.say(ann, "hi")
    protected.say(sue, "hi")
    protected.sandbox.leave(ann, protected.channel)
    held = _queued(protected, redis_client)

    # when the second one leaves the channel too
    protected.sandbox.leave(sue, protected.channel)
    ran = _run_within(protected, redis_client, seconds=10)

    # then her leave is enforced at once, not behind the first one's
    assert ran
    assert protected.status(sue) == "restricted"
    assert protected.status(ann) == "member"
    # and the first one's, when its job runs
    for update in held:
        dispatch.process_update(protected.bot.pk, update)
    assert protected.status(ann) == "restricted"


def test_the_bots_own_restriction_reported_back_does_not_hold_the_groups_next_update(
    protected: Guarded, redis_client, monkeypatch
):
    # given a non-subscriber's message enforced, and the mute it made reported back by Telegram
    # (a chat_member update from the bot itself) queued but not run, far from being passed
    monkeypatch.setattr(ordering, "WAIT_SECONDS", 60.0)
    max_ = protected.user("Max", subscribed=False)
    nick = protected.sandbox.create_user("Nick")["id"]
    protected.sandbox.message(max_, protected.group, "spam")
    for update in _queued(protected, redis_client):
        dispatch.process_update(protected.bot.pk, update)
    echoes = _queued(protected, redis_client)
    assert [u["chat_member"]["from"]["id"] for u in echoes] == [protected.bot.telegram_id]

    # when a non-subscriber joins the group
    protected.sandbox.join(nick, protected.group)
    ran = _run_within(protected, redis_client, seconds=10)

    # then the join is enforced at once, not behind the report of the earlier mute
    assert ran
    assert protected.status(nick) == "restricted"
    # and the report runs whenever its job does, changing nothing
    for update in echoes:
        dispatch.process_update(protected.bot.pk, update)
    assert protected.status(max_) == "restricted"


def _run_within(world: Guarded, redis_client, seconds: float) -> bool:
    """Queue the fresh updates (`_queued`) and run them in another thread, as a worker's other
    thread would; whether they were all done within `seconds` (not stuck behind a held head)."""
    done = threading.Event()

    def run() -> None:
        try:
            for update in _queued(world, redis_client):
                dispatch.process_update(world.bot.pk, update)
        finally:
            done.set()
            connection.close()  # this thread's own

    worker = threading.Thread(target=run)
    worker.start()
    worker.join(seconds)
    return done.is_set()


def _queued(world: Guarded, redis_client) -> list[dict[str, Any]]:
    """The updates the sandbox has for the bot since the last delivery, each put in its line as
    the webhook does, not run."""
    fresh = world.sandbox.updates(bot=world.bot.username, since=world.seen)
    for item in fresh:
        world.seen = max(world.seen, item["update_id"])
        line = ordering.line_for(world.bot.pk, world.bot.telegram_id, item["update"])
        if line is not None:
            redis_client.rpush(line, item["update"]["update_id"])
    return [item["update"] for item in fresh]
