"""Counters of faults that lost nothing but that operators should see, kept in Redis so every web
and worker process adds to the same numbers (as apps/ingress/stats.py counts unrouted updates).

Each counter is a Redis hash: one field per label value, one integer per field. /metrics exports
them; until then `read()` answers, e.g. from `manage.py shell`.
"""

from __future__ import annotations

import logging

import redis

from gmbot.redis import get_redis

logger = logging.getLogger(__name__)

# Jobs out of retries whose dead letter PostgreSQL refused; the job was kept and tried again.
# One field per queue.
DEAD_LETTERS_NOT_STORED = "gmbot:counters:dead-letters-not-stored"
# Bot API calls that got no answer in time, so Telegram may or may not have acted on them
# (apps/telegram/outcomes.py). One field per "<method>:repeated" or "<method>:not_repeated".
TELEGRAM_UNKNOWN_OUTCOMES = "gmbot:counters:telegram-unknown-outcomes"


def add(counter: str, label: str) -> None:
    """Count one more; with Redis down the count is lost and a warning says so."""
    try:
        get_redis().hincrby(counter, label, 1)
    except redis.RedisError:
        logger.warning("could not count %s %s: Redis unavailable", counter, label)


def read(counter: str) -> dict[str, int]:
    raw = get_redis().hgetall(counter)
    return {_text(label): int(value) for label, value in raw.items()}


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
