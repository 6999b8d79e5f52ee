"""Test-only jobs for the fault tests, loaded by test workers the way tests/ops/jobs.py is
(CELERY_WORKER_INCLUDE; see there)."""

from __future__ import annotations

import json

from celery import shared_task

from apps.telegram import errors
from gmbot.redis import get_redis


def received(key: str) -> list[str]:
    """The `text` of every attempt of the job keyed `key`, exactly as each attempt got it."""
    return [json.loads(raw) for raw in get_redis().lrange(key, 0, -1)]


@shared_task(name="tests.faults.jobs.refuse")
def refuse(key: str, text: str, times: int) -> None:
    """Record `text` (as ASCII JSON, which keeps NUL and lone surrogates) under `key`; Telegram
    refuses the first `times` attempts for good, with `text` in its answer."""
    attempt = get_redis().rpush(key, json.dumps(text))
    get_redis().expire(key, 600)
    if attempt <= times:
        raise errors.BadRequest(f"Bad Request: can't parse entities: {text}", "sendMessage")
