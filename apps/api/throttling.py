"""Requests per API key, counted in Redis so the limit holds across every web process and host.

DRF's own throttles read the history from the cache, decide, then write it back: concurrent
requests in several processes all read the same history and all pass. Here one Lua script
decides and records in a single atomic step on Redis's clock, in the manner of the Telegram
budgets (apps/telegram/ratelimit.py): a sorted set of request times per key, a sliding window
(so "60/min" means no minute ever holds a 61st request). That module's script reserves future
slots across several budgets, which costs time per call that grows with the square of the
limit; an API request is either let through now or refused, so this script only counts.

Redis unavailable: requests pass unthrottled (the API stays up) and a warning is logged, at most
once per REDIS_RETRY_SECONDS while it lasts.
"""

from __future__ import annotations

import functools
import logging
import math
import os
import re
import time
from typing import Any

import redis
from django.conf import settings
from redis.commands.core import Script
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from apps.api.authentication import KeyHolder
from gmbot.redis import get_redis

logger = logging.getLogger(__name__)

REDIS_RETRY_SECONDS = 5.0
_PERIODS = {"s": 1, "sec": 1, "second": 1, "min": 60, "minute": 60, "hour": 3600, "day": 86400}

# KEYS[1]: the key's request times. ARGV: limit, window (seconds), a unique member.
# Returns 0 when the request is let through (and recorded), else the seconds until the oldest
# request in the window leaves it. A refused request is not recorded, so retrying early does not
# push the moment further away.
_SCRIPT = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], math.ceil(window * 1000))
  return '0'
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return string.format('%.6f', tonumber(oldest[2]) + window - now)
"""

_script: Script | None = None
_redis_skipped_until = 0.0


@functools.cache
def parse_rate(rate: str) -> tuple[int, int]:
    """`"60/min"` → (60, 60): at most that many requests in any window of that many seconds."""
    match = re.fullmatch(r"\s*(\d+)\s*/\s*([a-z]+)\s*", rate)
    if not match or match[2] not in _PERIODS or int(match[1]) < 1:
        raise ValueError(f"API_THROTTLE_RATE must look like 60/min (s, min, hour, day): {rate!r}")
    return int(match[1]), _PERIODS[match[2]]


class KeyRateThrottle(BaseThrottle):
    """API_THROTTLE_RATE per API key; requests without a key are refused before this runs."""

    def __init__(self) -> None:
        self._wait: float | None = None

    def allow_request(self, request: Request, view: Any) -> bool:
        global _redis_skipped_until
        holder = request.user
        if not settings.API_THROTTLE_RATE or not isinstance(holder, KeyHolder):
            return True
        if time.monotonic() < _redis_skipped_until:
            return True
        limit, window = parse_rate(settings.API_THROTTLE_RATE)
        try:
            wait = _take(f"api:throttle:{holder.key_prefix}", limit, window)
        except redis.RedisError as exc:
            _redis_skipped_until = time.monotonic() + REDIS_RETRY_SECONDS
            logger.warning(
                "API throttle unavailable (Redis: %s); requests pass unthrottled for %.0fs",
                type(exc).__name__,
                REDIS_RETRY_SECONDS,
            )
            return True
        if wait <= 0:
            return True
        logger.info("api: %s throttled for %.1fs", holder, wait)
        # Whole seconds, rounded up (Retry-After carries whole seconds; early would be refused).
        self._wait = max(1, math.ceil(wait))
        return False

    def wait(self) -> float | None:
        return self._wait


def _take(key: str, limit: int, window: int) -> float:
    global _script
    client = get_redis()
    if _script is None:
        _script = client.register_script(_SCRIPT)
    return float(_script(keys=[key], args=[limit, window, os.urandom(8).hex()], client=client))
