"""The flush of member activity (SPEC M3): the Redis buffer into PostgreSQL, in batches.

Runs on `low` every few seconds (celeryconfig beat). Each flush
1. takes the whole buffer atomically (RENAME to FLUSHING_KEY; samples arriving meanwhile start
   a new buffer) — or, when a flush died, the buffer it left, first — and reads it in HSCAN
   rounds of SCAN_COUNT fields;
2. folds its samples into one row per member (messages counted, latest dates kept);
3. writes them with one `INSERT … SELECT … ON CONFLICT DO UPDATE` per BATCH members (arrays
   unnested, the managed group looked up in the same statement), adding counts and keeping the
   later dates (GREATEST), and records the buffer's token (ActivityFlush), in one transaction;
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
from datetime import UTC, datetime, timedelta
from typing import Any

import redis
from django.db import connection, transaction
from django.utils import timezone

from apps.members.models import ActivityFlush
from apps.members.services.buffer import BUFFER_KEY, FLUSH_ID_FIELD, FLUSHING_KEY
from gmbot.redis import get_redis

logger = logging.getLogger(__name__)

BATCH = 5_000
LOCK_KEY = "gmbot:members:activity:lock"
LOCK_SECONDS = 120
SCAN_COUNT = 10_000
FLUSH_KEPT = timedelta(hours=1)

# Arrays of bot id, chat id, user id, is_bot, joined (a join seen), first seen, last message,
# messages, left; then the time of the flush. Dates only move forward (GREATEST; NULLs are
# ignored by it), counts add up; left_at is a leave seen now (fold() keeps one only when it came
# after everything else seen of the member), cleared by a join or a message, kept otherwise.
UPSERT = """
INSERT INTO members_memberactivity AS a
    (group_id, user_id, is_bot, joined_at, first_seen_at, last_message_at, message_count,
     active_at, left_at, updated_at)
SELECT g.id, v.user_id, v.is_bot, v.joined, v.seen, v.wrote, v.messages,
       GREATEST(COALESCE(v.joined, v.seen), v.wrote), v.left_at, %s
FROM unnest(
    %s::bigint[], %s::bigint[], %s::bigint[], %s::boolean[], %s::timestamptz[],
    %s::timestamptz[], %s::timestamptz[], %s::integer[], %s::timestamptz[]
) AS v(bot_id, chat_id, user_id, is_bot, joined, seen, wrote, messages, left_at)
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
    # (date, update id) of the latest sign of presence (a join, a message) and of a leave.
    present: tuple[int, int] = (0, 0)
    gone: tuple[int, int] = (0, 0)


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
    for field, value in redis_client.hscan_iter(FLUSHING_KEY, count=SCAN_COUNT):
        raw[field] = value
    return raw


def fold(raw: dict[bytes, bytes]) -> dict[tuple[int, int, int], Member]:
    """One Member per (bot, chat, user) from the buffer's fields; bad fields are skipped with a
    warning (they cannot be told apart from nothing, so nothing is lost that could be kept)."""
    members: dict[tuple[int, int, int], Member] = {}
    bad = 0
    for key, value in raw.items():
        try:
            bot_id, chat_id, user_id, kind = key.decode().split(":", 3)
            text = value.decode()
            is_bot = text.endswith("b")
            date_text, _, update_text = text.rstrip("b").partition(":")
            date, order = int(date_text), (int(date_text), int(update_text or 0))
            member_key = (int(bot_id), int(chat_id), int(user_id))
        except ValueError:
            bad += 1
            continue
        member = members.get(member_key)
        if member is None:
            member = members[member_key] = Member(seen=date)
        member.is_bot = member.is_bot or is_bot
        member.seen = min(member.seen, date)
        if kind.startswith("m"):
            member.messages += 1
            member.wrote = max(member.wrote or 0, date)
            member.present = max(member.present, order)
        elif kind == "j":
            member.joined = max(member.joined or 0, date)
            member.present = max(member.present, order)
        elif kind == "l":
            member.left = max(member.left or 0, date)
            member.gone = max(member.gone, order)
        else:
            bad += 1
    if bad:
        logger.warning("members: %d unreadable activity sample(s) skipped", bad)
    for member in members.values():
        # A leave counts only when it came after everything else seen of the member.
        if member.gone < member.present:
            member.left = None
    return members


def write(members: dict[tuple[int, int, int], Member], token: str) -> Flushed:
    """Upsert `members` in batches of BATCH and record the token, in one transaction."""
    result = Flushed(members=len(members), messages=sum(m.messages for m in members.values()))
    now = timezone.now()
    items = list(members.items())
    with transaction.atomic(), connection.cursor() as cursor:
        for start in range(0, len(items), BATCH):
            cursor.execute(UPSERT, _arrays(items[start : start + BATCH], now))
            result.rows += cursor.rowcount
            result.queries += 1
        ActivityFlush.objects.create(token=token, members=result.members, messages=result.messages)
        # A token matters only until its buffer is deleted, moments later.
        ActivityFlush.objects.filter(flushed_at__lt=now - FLUSH_KEPT).delete()
        result.queries += 2
    return result


def _at(date: int | None) -> datetime | None:
    return None if date is None else datetime.fromtimestamp(date, UTC)


def _arrays(items: list[tuple[tuple[int, int, int], Member]], now: datetime) -> list[Any]:
    return [
        now,
        [bot for (bot, _, _), _ in items],
        [chat for (_, chat, _), _ in items],
        [user for (_, _, user), _ in items],
        [m.is_bot for _, m in items],
        [_at(m.joined) for _, m in items],
        [_at(m.seen) for _, m in items],
        [_at(m.wrote) for _, m in items],
        [m.messages for _, m in items],
        [_at(m.left) for _, m in items],
    ]
