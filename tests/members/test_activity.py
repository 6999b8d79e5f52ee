"""Member activity (SPEC M3): what the observer buffers and what one flush writes.

The updates come from the sandbox and go through the worker's entry point; the flush runs
against real Redis and PostgreSQL. tests/members/test_end_to_end.py runs the same through the
webhook and real workers.
"""

from __future__ import annotations

import logging
import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.ingress import dispatch
from apps.members.models import ActivityFlush, MemberActivity
from apps.members.services import activity, buffer

pytestmark = pytest.mark.django_db


def upserts(queries: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if "members_memberactivity" in q["sql"]]


def test_many_messages_make_one_upserted_row_per_member_in_one_statement(managed, redis_client):
    # given three members, one of whom joins while the bot watches
    ann, ben = managed.member("Ann"), managed.member("Ben")
    cid = int(managed.sandbox.create_user("Cid")["id"])
    managed.sandbox.join(cid, managed.chat_id)

    # when Ann writes five messages, Ben two and Cid one
    for text in ["a1", "a2", "a3", "a4", "a5"]:
        managed.sandbox.message(ann, managed.chat_id, text)
    for text in ["b1", "b2"]:
        managed.sandbox.message(ben, managed.chat_id, text)
    managed.sandbox.message(cid, managed.chat_id, "c1")
    managed.deliver()
    # and the buffer is flushed
    with CaptureQueriesContext(connection) as queries:
        flushed = activity.do_flush()

    # then one statement wrote one row per member with their counts
    assert len([sql for sql in upserts(queries) if sql.lstrip().startswith("INSERT")]) == 1
    assert (flushed.members, flushed.messages, flushed.rows) == (3, 8, 3)
    rows = {row.user_id: row for row in MemberActivity.objects.filter(group=managed.group)}
    assert {u: r.message_count for u, r in rows.items()} == {ann: 5, ben: 2, cid: 1}
    assert rows[cid].joined_at is not None and rows[ann].joined_at is None
    assert all(r.last_message_at and r.active_at >= r.last_message_at for r in rows.values())
    # and the buffer is gone, so a second flush writes nothing
    assert not redis_client.exists(buffer.BUFFER_KEY, buffer.FLUSHING_KEY)
    assert activity.do_flush().members == 0
    assert MemberActivity.objects.get(user_id=ann).message_count == 5


def test_later_flushes_add_counts_and_keep_the_latest_dates(managed):
    # given a member whose first messages were flushed
    ann = managed.member("Ann")
    managed.sandbox.message(ann, managed.chat_id, "one")
    managed.deliver()
    activity.do_flush()
    first = MemberActivity.objects.get(user_id=ann)

    # when she writes twice more, an hour later by Telegram's clock, and it is flushed
    managed.sandbox.advance_clock(3600)
    managed.sandbox.message(ann, managed.chat_id, "two")
    managed.sandbox.message(ann, managed.chat_id, "three")
    managed.deliver()
    activity.do_flush()

    # then the counts add up and the dates moved on
    row = MemberActivity.objects.get(user_id=ann)
    assert row.message_count == 3
    assert row.last_message_at is not None and first.last_message_at is not None
    assert (row.last_message_at - first.last_message_at).total_seconds() >= 3600
    assert row.first_seen_at == first.first_seen_at


def test_an_update_run_twice_is_counted_once(managed):
    # given a message delivered once
    ann = managed.member("Ann")
    managed.sandbox.message(ann, managed.chat_id, "hello")
    update = managed.sandbox.updates(bot=managed.bot.username, since=managed.seen)[-1]["update"]

    # when the worker runs it twice (the done-mark lost: a retry after a handler failed)
    dispatch.process_update(managed.bot.pk, update)
    buffer.client().delete(f"gmbot:done:{managed.bot.pk}:{update['update_id']}")
    dispatch.process_update(managed.bot.pk, update)
    activity.do_flush()

    # then the message counts once
    assert MemberActivity.objects.get(user_id=ann).message_count == 1


def test_a_leave_marks_the_member_gone_and_a_return_brings_them_back(managed):
    # given a member who wrote
    ann = managed.member("Ann")
    managed.sandbox.message(ann, managed.chat_id, "hi")
    managed.deliver()
    activity.do_flush()

    # when she leaves
    managed.sandbox.leave(ann, managed.chat_id)
    managed.deliver()
    activity.do_flush()
    # then she is no longer present
    assert MemberActivity.objects.get(user_id=ann).left_at is not None

    # and when she joins again she is present, with a new join time
    managed.sandbox.join(ann, managed.chat_id)
    managed.deliver()
    activity.do_flush()
    row = MemberActivity.objects.get(user_id=ann)
    assert row.left_at is None and row.joined_at is not None


def test_groups_gmbot_does_not_manage_are_not_written(managed):
    # given a group the bot is in but nobody registered in GMBot
    other = int(managed.sandbox.create_chat("supergroup", title="Elsewhere")["id"])
    managed.sandbox.add_bot(managed.bot.username, other, status="administrator")
    ann = managed.member("Ann")
    managed.sandbox.set_member(other, ann, "member")
    managed.skip_pending()

    # when Ann writes there and in the managed group
    managed.sandbox.message(ann, other, "elsewhere")
    managed.sandbox.message(ann, managed.chat_id, "here")
    managed.deliver()
    flushed = activity.do_flush()

    # then only the managed group has a row
    assert flushed.members == 2 and flushed.rows == 1
    assert list(MemberActivity.objects.values_list("group_id", flat=True)) == [managed.group.pk]


def test_a_flush_that_died_after_committing_is_not_counted_twice(managed, redis_client):
    # given a buffer a flush took and wrote, and then died before deleting it
    ann = managed.member("Ann")
    managed.sandbox.message(ann, managed.chat_id, "once")
    managed.deliver()
    redis_client.rename(buffer.BUFFER_KEY, buffer.FLUSHING_KEY)
    redis_client.hset(buffer.FLUSHING_KEY, buffer.FLUSH_ID_FIELD, "deadbeef")
    raw = redis_client.hgetall(buffer.FLUSHING_KEY)
    raw.pop(buffer.FLUSH_ID_FIELD.encode())
    activity.write(activity.fold(raw), "deadbeef")

    # when the next flush runs, with a new message buffered meanwhile
    managed.sandbox.message(ann, managed.chat_id, "twice")
    managed.deliver()
    activity.do_flush()
    activity.do_flush()

    # then the first message counts once, the new one once
    assert MemberActivity.objects.get(user_id=ann).message_count == 2
    assert not redis_client.exists(buffer.FLUSHING_KEY)


def test_a_flush_that_died_before_committing_is_finished_by_the_next(managed, redis_client):
    # given a buffer taken by a flush that died before writing anything
    ann = managed.member("Ann")
    managed.sandbox.message(ann, managed.chat_id, "kept")
    managed.deliver()
    redis_client.rename(buffer.BUFFER_KEY, buffer.FLUSHING_KEY)
    redis_client.hset(buffer.FLUSHING_KEY, buffer.FLUSH_ID_FIELD, "cafe")

    # when the next flush runs
    activity.do_flush()

    # then nothing was lost
    assert MemberActivity.objects.get(user_id=ann).message_count == 1
    assert ActivityFlush.objects.filter(token="cafe").exists()


def test_with_redis_down_samples_are_dropped_with_a_warning_and_handlers_are_not_delayed(
    managed, settings, caplog
):
    # given twenty messages, and the buffer's Redis an address where nothing answers
    ann = managed.member("Ann")
    for _ in range(20):
        managed.sandbox.message(ann, managed.chat_id, "lost")
    fresh = managed.sandbox.updates(bot=managed.bot.username, since=managed.seen)
    working = settings.REDIS_URL
    settings.REDIS_URL = "redis://10.255.255.1:6379/0"
    buffer.reset()

    # when the worker runs them
    caplog.set_level(logging.WARNING, logger="apps.members.services.buffer")
    timings = []
    for item in fresh:
        started = time.monotonic()
        dispatch.process_update(managed.bot.pk, item["update"])
        timings.append(time.monotonic() - started)
        managed.seen = item["update_id"]

    # then one warning says so; the first update waited at most the buffer's short timeout, the
    # others did not try Redis at all (it is left alone for a while)
    warnings = [r for r in caplog.records if "activity not recorded" in r.getMessage()]
    assert len(warnings) == 1
    assert timings[0] < buffer.TIMEOUT + 0.25
    assert max(timings[1:]) < buffer.TIMEOUT
    # and nothing was buffered; once Redis answers again, samples are recorded again
    settings.REDIS_URL = working
    buffer.reset()
    assert activity.do_flush().members == 0
    managed.sandbox.message(ann, managed.chat_id, "kept")
    managed.deliver()
    activity.do_flush()
    assert MemberActivity.objects.get(user_id=ann).message_count == 1
