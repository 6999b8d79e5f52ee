"""The Redis buffer of member activity (SPEC M3): written per message, taken by the flush.

One hash, `BUFFER_KEY`, holds every sample of every bot and group since the last flush, one field
per sample, so recording costs one HSET per update:
- `<bot>:<chat>:<user>:m<message id>` → the message's date: a message written;
- `<bot>:<chat>:<user>:j` → the date: joined; `…:l` → the date: left (or was removed).
Each value is `<date>:<update id>`, ending in `b` for a bot; the update id orders a leave and a
join within one second (update ids grow per bot). A message is keyed by its id, so an update
run twice (an observer may be, when its handlers failed) records it once.

Redis unavailable: the sample is dropped with a warning (activity is advisory), and Redis is
left alone for REDIS_RETRY_SECONDS, so an outage costs a handler at most one short timeout per
process per interval, never one per message. The buffer has its own client with timeouts of
`TIMEOUT` seconds for the same reason.
"""

from __future__ import annotations

import logging
import time

import redis
from django.conf import settings

logger = logging.getLogger(__name__)

BUFFER_KEY = "gmbot:members:activity"
# The buffer while a flush works on it (RENAME takes it whole: samples arriving meanwhile start
# a new buffer). A flush that dies leaves it for the next, which finishes it first.
FLUSHING_KEY = "gmbot:members:activity:flushing"
FLUSH_ID_FIELD = "~flush"
REDIS_RETRY_SECONDS = 5.0
TIMEOUT = 0.1

_client: redis.Redis | None = None
_skip_until = 0.0


def client() -> redis.Redis:
    global _client
    if _client is None:
        _client = redis.Redis.from_url(
            settings.REDIS_URL, socket_connect_timeout=TIMEOUT, socket_timeout=TIMEOUT
        )
    return _client


def reset() -> None:
    """Forget the connection and any outage (a fork, a test that moved REDIS_URL)."""
    global _client, _skip_until
    if _client is not None:
        _client.connection_pool.reset()
    _client = None
    _skip_until = 0.0


def record(samples: dict[str, str]) -> bool:
    """Add samples (field → value) to the buffer in one command. False when dropped."""
    global _skip_until
    if not samples:
        return True
    if time.monotonic() < _skip_until:
        return False
    try:
        client().hset(BUFFER_KEY, mapping=samples)  # type: ignore[arg-type]
    except redis.RedisError as exc:
        _skip_until = time.monotonic() + REDIS_RETRY_SECONDS
        logger.warning(
            "members: activity not recorded (Redis: %s); samples dropped for %.0fs",
            type(exc).__name__, REDIS_RETRY_SECONDS,
        )  # fmt: skip
        return False
    return True


def sample_field(bot_id: int, chat_id: int, user_id: int, kind: str) -> str:
    return f"{bot_id}:{chat_id}:{user_id}:{kind}"


def sample_value(date: int, update_id: int, is_bot: bool) -> str:
    return f"{date}:{update_id}" + ("b" if is_bot else "")
