"""Bot API calls per bot, method and outcome, hour by hour, for the staff dashboard (SPEC M7).

One Redis hash per hour, `gmbot:telegram:calls:<YYYYMMDDHH>` (UTC), field `<bot telegram
id>|<method>|<result>`, kept KEEP_HOURS: every process on every host adds to the same numbers, the
dashboard reads the last day in one round trip, and no call writes a row to PostgreSQL (a call
counted there would double the database writes of the enforcement path).

A process adds its calls up in memory and a background thread writes them at most every
FLUSH_SECONDS in one pipeline, so a call costs no round trip of its own. A process killed outright
loses at most its last second of counts; one that stops normally writes them first (`flush()`:
gmbot/celery.py calls it when a worker process shuts down, atexit for the rest).
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import redis

from gmbot.redis import get_redis

logger = logging.getLogger(__name__)

KEY_PREFIX = "gmbot:telegram:calls:"
KEEP_HOURS = 48
FLUSH_SECONDS = 1.0
# Outcomes that are no error: the call did what it was for.
SUCCESS = frozenset({"ok", "already_done"})

_lock = threading.Lock()
_pending: Counter[tuple[str, str]] = Counter()
_flusher_pid = 0
_wake = threading.Event()


def count(bot_telegram_id: int, method: str, result: str) -> None:
    """One call of `method` by the bot, ended as `result` (client.Outcome.result)."""
    global _flusher_pid
    hour = time.strftime("%Y%m%d%H", time.gmtime())
    with _lock:
        _pending[(hour, f"{bot_telegram_id}|{method}|{result}")] += 1
        if _flusher_pid != os.getpid():
            # First call in this process (or in a child forked since): threads do not survive
            # a fork, so each process starts its own.
            _flusher_pid = os.getpid()
            threading.Thread(target=_flush_forever, name="api-usage", daemon=True).start()


def flush() -> None:
    """Write what this process counted so far (one pipeline). Redis down: the counts are lost,
    with a warning; the calls themselves are not affected."""
    with _lock:
        if not _pending:
            return
        batch = dict(_pending)
        _pending.clear()
    try:
        pipe = get_redis().pipeline(transaction=False)
        for (hour, field), n in batch.items():
            pipe.hincrby(KEY_PREFIX + hour, field, n)
        for hour in {hour for hour, _ in batch}:
            pipe.expire(KEY_PREFIX + hour, KEEP_HOURS * 3600)
        pipe.execute()
    except redis.RedisError as exc:
        logger.warning("telegram: %d call counts not recorded (Redis: %s)", len(batch),
                       type(exc).__name__)  # fmt: skip


def _flush_forever() -> None:
    while True:
        _wake.wait(FLUSH_SECONDS)
        flush()


atexit.register(flush)


@dataclass(frozen=True)
class Calls:
    """One bucket: calls of one bot's method in one hour, and how many of them failed."""

    hour: datetime
    bot_telegram_id: int
    method: str
    calls: int
    errors: int


def hour_starts(hours: int = 24, now: datetime | None = None) -> list[datetime]:
    """The starts of the last `hours` hours (UTC), the current one included, oldest first."""
    now = now or datetime.now(UTC)
    start = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=hours - 1)
    return [start + timedelta(hours=n) for n in range(hours)]


def last_hours(hours: int = 24, now: datetime | None = None) -> list[Calls]:
    """The buckets of the last `hours` hours, the current one included, oldest first."""
    starts = hour_starts(hours, now)
    pipe = get_redis().pipeline(transaction=False)
    for hour in starts:
        pipe.hgetall(KEY_PREFIX + hour.strftime("%Y%m%d%H"))
    found: list[Calls] = []
    for hour, fields in zip(starts, pipe.execute(), strict=True):
        totals: dict[tuple[int, str], list[int]] = {}
        for raw, value in fields.items():
            bot, method, result = _text(raw).split("|")
            entry = totals.setdefault((int(bot), method), [0, 0])
            entry[0] += int(value)
            if result not in SUCCESS:
                entry[1] += int(value)
        found += [Calls(hour, bot, method, n, bad) for (bot, method), (n, bad) in totals.items()]
    return found


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
