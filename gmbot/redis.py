"""One Redis client per process for the product's own keys (dedup, budgets, caches)."""

from __future__ import annotations

import redis
from django.conf import settings

_client: redis.Redis | None = None


def get_redis() -> redis.Redis:
    global _client
    if _client is None:
        _client = redis.Redis.from_url(
            settings.REDIS_URL,
            socket_connect_timeout=0.5,
            socket_timeout=1.0,
            health_check_interval=30,
        )
    return _client


def reset_connections() -> None:
    """Forget the pool inherited over a fork; the next call connects afresh."""
    global _client
    if _client is not None:
        _client.connection_pool.reset()
    _client = None
