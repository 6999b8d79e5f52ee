from __future__ import annotations

from collections.abc import Callable

import pytest

# The workers of these tests load the test-only jobs (see tests/ops/jobs.py) and back off in
# milliseconds instead of seconds, so three retries take well under a second.
JOBS_WORKER_ENV = {
    "CELERY_WORKER_INCLUDE": "tests.ops.jobs",
    "TASK_RETRY_BACKOFF_BASE": "0.05",
    "TASK_RETRY_BACKOFF_CAP": "0.2",
}


@pytest.fixture
def jobs_worker(start_worker: Callable[..., object]) -> object:
    """One worker on all three queues that can run tests.ops.jobs."""
    return start_worker(["high", "normal", "low"], concurrency=2, **JOBS_WORKER_ENV)
