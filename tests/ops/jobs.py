"""Test-only jobs that fail on demand, to drive the retry policy through a real worker.

They are not in tasks/ (production routing stays free of test names): a test worker loads this
module through Celery's own `--include` option, set by the environment variable
CELERY_WORKER_INCLUDE (Celery's CLI reads CELERY_<COMMAND>_<OPTION>), and the tests send each job
to a queue explicitly. Retries stay on that queue, which is part of what is tested.
"""

from __future__ import annotations

import json
import time
from typing import Any

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded

from apps.telegram import errors
from apps.telegram.traffic import is_bulk
from gmbot.redis import get_redis

ERRORS: dict[str, type[errors.TelegramError]] = {
    "TransientError": errors.TransientError,
    "RetryAfter": errors.RetryAfter,
    "Unreachable": errors.Unreachable,
    "BadRequest": errors.BadRequest,
}


def attempts(key: str) -> list[dict[str, Any]]:
    """Every attempt the job keyed `key` made: when, on which queue, with bulk traffic or not."""
    return [json.loads(raw) for raw in get_redis().lrange(key, 0, -1)]


@shared_task(name="tests.ops.jobs.fail_then_succeed", bind=True)
def fail_then_succeed(
    self: Any, key: str, failures: int, error: str, description: str, retry_after: float = 0
) -> int:
    """Record the attempt under `key`; raise `error` on the first `failures` attempts."""
    record = {
        "at": time.time(),
        "queue": (self.request.delivery_info or {}).get("routing_key"),
        "bulk": is_bulk(),
    }
    attempt = get_redis().rpush(key, json.dumps(record))
    get_redis().expire(key, 600)
    if attempt <= failures:
        extra: dict[str, Any] = {"retry_after": retry_after} if error == "RetryAfter" else {}
        raise ERRORS[error](description, method="sendMessage", **extra)
    return attempt


@shared_task(name="tests.ops.jobs.hang")
def hang(seconds: float) -> None:
    """A job stuck in something the soft time limit cannot interrupt (here: it swallows it)."""
    try:
        time.sleep(seconds)
    except SoftTimeLimitExceeded:
        time.sleep(seconds)
