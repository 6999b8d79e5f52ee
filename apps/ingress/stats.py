"""Counters kept in Redis so every web process adds to the same numbers."""

from __future__ import annotations

import logging

import redis

from gmbot.redis import get_redis

logger = logging.getLogger(__name__)

UNROUTED_KEY = "gmbot:ingress:unrouted"


def count_unrouted(kind: str) -> None:
    """An update kind nobody handles: answered 200, not queued, counted per kind."""
    try:
        get_redis().hincrby(UNROUTED_KEY, kind or "empty", 1)
    except redis.RedisError:
        logger.warning("ingress: could not count an unrouted %r update", kind)


def unrouted_counts() -> dict[str, int]:
    raw = get_redis().hgetall(UNROUTED_KEY)
    return {_text(key): int(value) for key, value in raw.items()}


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
