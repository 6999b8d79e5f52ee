"""The flush of member activity (SPEC M3): the Redis buffer into PostgreSQL, in batches.

Runs on `low` every few seconds (celeryconfig beat). Each flush
1. takes the whole buffer atomically (RENAME to FLUSHING_KEY; samples arriving meanwhile start
   a new buffer) — or, when a flush died, the buffer it left, first — and reads it in HSCAN
   rounds of SCAN_COUNT fields;
2. folds its samples into one row per member (messages counted, latest dates kept);
3. sends them by COPY to a temporary table and writes them with one `INSERT … SELECT … ON
   CONFLICT DO UPDATE` (the managed group looked up in the same statement), adding counts and
   keeping the later dates (GREATEST), and records the buffer's token (ActivityFlush), all in
   one transaction: six statements however many members;
4. deletes the buffer (UNLINK: freed in the background).
A flush that dies before 3 commits leaves the buffer for the next, which writes it once; one that
dies after leaves its token behind, and the next only deletes the buffer. So a sample is counted
once, or (Redis lost) not at all. A lock in Redis keeps two flushes from overlapping.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

import redis
from django.db import connection, transaction
from django.utils import timezone

from apps.members.models import ActivityFlush
from apps.members.services.buffer import BUFFER_KEY, FLUSH_ID_FIELD, FLUSHING_KEY
from gmbot.redis import get_redis

logger = logging.getLogger(__name__)

COPY_CHUNK = 10_000  # members formatted and sent at a time
LOCK_KEY = "gmbot:members:activity:lock"
LOCK_SECONDS = 120
SCAN_COUNT = 10_000
FLUSH_KEPT = timedelta(hours=1)

# The folded members travel by COPY into a temporary table (the session's own), and one
# statement upserts them all, the managed group looked up in it. (As query parameters, 100,000
# members are nine arrays that Django's client-side binding spells out as text: three times
# the cost.) Dates are Unix seconds. Dates only move forward (GREATEST; NULLs are ignored by
# it), counts add up; left_at is a leave seen now (fold() keeps one only when it came after
# everything else seen of the member), cleared by a join or a message, kept otherwise.
BATCH_TABLE = """
CREATE TEMPORARY TABLE IF NOT EXISTS members_activity_batch (
    bot_id bigint, chat_id bigint, user_id bigint, is_bot boolean, joined bigint, seen bigint,
    wrote bigint, messages integer, left_at bigint
) ON COMMIT DELETE ROWS
"""
# Emptied at every commit; emptied here too for a flush inside a caller's transaction.
EMPTY_BATCH = "TRUNCATE members_activity_batch"
COPY = "COPY members_activity_batch FROM STDIN"
UPSERT = """
INSERT INTO members_memberactivity AS a
    (group_id, user_id, is_bot, joined_at, first_seen_at, last_message_at, message_count,
     active_at, left_at, updated_at)
SELECT g.id, v.user_id, v.is_bot, to_timestamp(v.joined), to_timestamp(v.seen),
       to_timestamp(v.wrote), v.messages,
       to_timestamp(GREATEST(COALESCE(v.joined, v.seen), v.wrote)), to_timestamp(v.left_at), %s
FROM members_activity_batch v
JOIN chats_group g ON g.bot_id = v.bot_id AND g.chat_id = v.chat_id AND g.enabled
ON CONFLICT (group_id, user_id) DO UPDATE SET
    is_bot = a.is_bot OR EXCLUDED.is_bot,
    joined_at = GREATEST(a.joined_at, EXCLUDED.joined_at),
    first_seen_at = LEAST(a.first_seen_at, EXCLUDED.first_seen_at),
    last_message_at = GREATEST(a.last_message_at, EXCLUDED.last_message_at),
    message_count = a.message_count + EXCLUDED.message_count,
    active_at = GREATEST(a.active_at, EXCLUDED.last_message_at, EXCLUDED.joined_at),
    left_at = CASE
        WHEN EXCLUDED.left_at IS NOT NULL THEN EXCLUDED.left_at
        WHEN EXCLUDED.last_message_at IS NOT NULL OR EXCLUDED.joined_at IS NOT NULL THEN NULL
        ELSE a.left_at END,
    updated_at = EXCLUDED.updated_at
"""


@dataclass
class Member:
    is_bot: bool = False
    joined: int | None = None
    seen: int = 0
    wrote: int | None = None
    messages: int = 0
    left: int | None = None


@dataclass
class Flushed:
    members: int = 0
    messages: int = 0
    samples: int = 0
    queries: int = 0
    seconds: float = 0.0
    skipped: bool = False  # another flush held the lock
    rows: int = 0  # rows written: the members of managed groups


def do_flush() -> Flushed:
    """Write the buffered samples to MemberActivity; see the module docstring for why a sample
    is counted once. Locks: a Redis lock against a second flush; the rows it upserts."""
    started = time.monotonic()
    redis_client = get_redis()  # not the buffer's client: its timeouts are for one HSET
    lock = redis_client.lock(LOCK_KEY, timeout=LOCK_SECONDS, blocking=False)
    if not lock.acquire():
        return Flushed(skipped=True)
    try:
        result = Flushed()
        if not redis_client.exists(FLUSHING_KEY):
            try:
                redis_client.rename(BUFFER_KEY, FLUSHING_KEY)
            except redis.ResponseError:  # "no such key": nothing was buffered
                return result
            redis_client.hsetnx(FLUSHING_KEY, FLUSH_ID_FIELD, uuid.uuid4().hex)
        raw = read_buffer(redis_client)
        token = raw.pop(FLUSH_ID_FIELD.encode(), b"").decode() or uuid.uuid4().hex
        if ActivityFlush.objects.filter(token=token).exists():
            logger.info("members: buffer %s was flushed before; deleting it", token)
        else:
            members = fold(raw)
            result = write(members, token)
            result.samples = len(raw)
        redis_client.unlink(FLUSHING_KEY)  # freed in the background: no pause for other clients
        result.seconds = time.monotonic() - started
        return result
    finally:
        lock.release()


def read_buffer(redis_client: redis.Redis) -> dict[bytes, bytes]:
    """The taken buffer, SCAN_COUNT fields a round trip: one HGETALL of 300,000 fields would
    hold Redis for every other client (the webhook's dedup among them) for a good while.
    Nothing writes to the taken buffer, so HSCAN sees every field; one seen twice (HSCAN may)
    lands on the same key."""
    raw: dict[bytes, bytes] = {}
    cursor = 0
    while True:
        cursor, fields = redis_client.hscan(FLUSHING_KEY, cursor, count=SCAN_COUNT)
        raw.update(cast(dict[bytes, bytes], fields))
        if not cursor:
            return raw


def fold(raw: dict[bytes, bytes]) -> dict[tuple[int, int, int], Member]:
    """One Member per (bot, chat, user) from the buffer's fields; bad fields are skipped with a
    warning (they cannot be told apart from nothing, so nothing is lost that could be kept).

    This loop is most of a flush's time (300,000 messages: about a second), so it works on the
    raw bytes with one list per member and parses a member's ids once, not once per message;
    an update id is parsed only where it can decide something (a leave against the latest
    sign of presence)."""
    # Per member: seen, wrote, messages, joined, left, present (date, update id), gone, is_bot.
    state: dict[bytes, list[Any]] = {}
    bad = 0
    for key, value in raw.items():
        prefix, _, kind = key.rpartition(b":")
        date_text, _, update_text = value.partition(b":")
        try:
            date = int(date_text)
        except ValueError:
            bad += 1
            continue
        row = state.get(prefix)
        if row is None:
            row = state[prefix] = [date, None, 0, None, None, (0, 0), (0, 0), False]
        elif date < row[0]:
            row[0] = date
        if value[-1:] == b"b":
            row[7] = True
        first = kind[:1]
        if first == b"m":
            row[2] += 1
            if row[1] is None or date > row[1]:
                row[1] = date
            if date >= row[5][0]:
                row[5] = max(row[5], (date, _update_id(update_text)))
        elif first == b"j":
            row[3] = date if row[3] is None else max(row[3], date)
            row[5] = max(row[5], (date, _update_id(update_text)))
        elif first == b"l":
            row[4] = date if row[4] is None else max(row[4], date)
            row[6] = max(row[6], (date, _update_id(update_text)))
        else:
            bad += 1
    members: dict[tuple[int, int, int], Member] = {}
    for prefix, (seen, wrote, messages, joined, left, present, gone, is_bot) in state.items():
        try:
            bot_id, chat_id, user_id = (int(part) for part in prefix.split(b":"))
        except ValueError:
            bad += 1
            continue
        # A leave counts only when it came after everything else seen of the member.
        members[(bot_id, chat_id, user_id)] = Member(
            is_bot=is_bot, joined=joined, seen=seen, wrote=wrote, messages=messages,
            left=left if gone > present else None,
        )  # fmt: skip
    if bad:
        logger.warning("members: %d unreadable activity sample(s) skipped", bad)
    return members


def _update_id(text: bytes) -> int:
    try:
        return int(text.rstrip(b"b") or 0)
    except ValueError:
        return 0


def write(members: dict[tuple[int, int, int], Member], token: str) -> Flushed:
    """Upsert `members` (one statement, whatever their number) and record the token, in one
    transaction."""
    result = Flushed(members=len(members), messages=sum(m.messages for m in members.values()))
    now = timezone.now()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(BATCH_TABLE)
        cursor.execute(EMPTY_BATCH)
        items = list(members.items())
        with cursor.cursor.copy(COPY) as copy:
            for start in range(0, len(items), COPY_CHUNK):
                copy.write(_lines(items[start : start + COPY_CHUNK]))
        cursor.execute(UPSERT, [now])
        result.rows = cursor.rowcount
        ActivityFlush.objects.create(token=token, members=result.members, messages=result.messages)
        # A token matters only until its buffer is deleted, moments later.
        ActivityFlush.objects.filter(flushed_at__lt=now - FLUSH_KEPT).delete()
        result.queries = 6
    return result


def _lines(items: list[tuple[tuple[int, int, int], Member]]) -> str:
    """COPY's text format: tab-separated, \\N for NULL."""
    return "".join(
        f"{bot}\t{chat}\t{user}\t{'t' if m.is_bot else 'f'}\t{_n(m.joined)}\t{m.seen}\t"
        f"{_n(m.wrote)}\t{m.messages}\t{_n(m.left)}\n"
        for (bot, chat, user), m in items
    )


def _n(value: int | None) -> str:
    return "\\N" if value is None else str(value)
