"""Prometheus metrics (SPEC O2): what every process counts as it works, and what /metrics asks for
at scrape time.

Counted as it happens, in every web and worker process (multiprocess mode: gmbot/metrics_files.py
says where each process writes), by the code that knows: the webhook, the Telegram client, the
guard's verifications, the task base. Each helper below is a no-op with METRICS_ENABLED off, so a
benchmark can compare the cost.

Known only by asking (queue depths, dead letters, active groups, whether Redis and PostgreSQL
answer, the Redis counters of gmbot/counters.py): apps register a function with `on_scrape()` in
their `AppConfig.ready()`, and /metrics (apps/ops/metrics.py) calls each one per scrape.

Lives in gmbot, not in an app: apps/telegram, which may import no other app, counts here too.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterable
from typing import ParamSpec, TypeVar

from prometheus_client import Counter, Histogram
from prometheus_client.metrics_core import Metric

from gmbot.metrics_files import ENABLED

P = ParamSpec("P")
R = TypeVar("R")

# Seconds: the webhook answers in about a millisecond; a verification that asks Telegram, tens.
_FAST = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)
_SLOWER = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 15.0)

WEBHOOK_REQUESTS = Counter(
    "bot_webhook_requests", "Webhook requests by the status they were answered with", ["status"]
)
WEBHOOK_LATENCY = Histogram(
    "bot_webhook_latency_seconds", "Time the webhook took to decide and queue", buckets=_FAST
)
API_CALLS = Counter(
    "bot_api_calls",
    "Bot API calls by method and how they ended (ok, already_done, retry_after, transient, "
    "outcome_unknown, unreachable, bad_request, migrated, rate_limited)",
    ["method", "result"],
)
RATE_LIMIT_DELAYS = Counter(
    "bot_rate_limit_delays",
    "Bot API calls delayed by a rate limit: budget_wait (slept for our budget), budget_full "
    "(retried later), telegram_429 (Telegram's own Retry-After)",
    ["source"],
)
ERRORS = Counter("bot_errors", "Failed attempts of jobs, by the exception's class", ["type"])
VERIFICATIONS = Counter(
    "bot_verifications",
    "Membership checks of a member against a group's channels: verified or not_subscribed",
    ["status"],
)
VERIFICATION_LATENCY = Histogram(
    "bot_verification_latency_seconds",
    "Time a membership check took (cache or Telegram)",
    buckets=_SLOWER,
)


# The webhook's per-status counters, looked up once: labels() costs as much as the increment,
# and the webhook is the hot path (thousands of requests a second).
_by_status: dict[int, Counter] = {}


def webhook_answered(status: int, seconds: float) -> None:
    if ENABLED:
        counter = _by_status.get(status)
        if counter is None:
            counter = _by_status[status] = WEBHOOK_REQUESTS.labels(str(status))
        counter.inc()
        WEBHOOK_LATENCY.observe(seconds)


def api_call(method: str, result: str) -> None:
    if ENABLED:
        API_CALLS.labels(method, result).inc()


def rate_limit_delay(source: str) -> None:
    if ENABLED:
        RATE_LIMIT_DELAYS.labels(source).inc()


def job_failed(exc: BaseException) -> None:
    if ENABLED:
        ERRORS.labels(type(exc).__name__).inc()


def timed_verification(check: Callable[P, list[R]]) -> Callable[P, list[R]]:
    """Count and time a membership check that returns what is missing (empty: verified)."""

    @functools.wraps(check)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> list[R]:
        if not ENABLED:
            return check(*args, **kwargs)
        started = time.perf_counter()
        missing = check(*args, **kwargs)
        VERIFICATION_LATENCY.observe(time.perf_counter() - started)
        VERIFICATIONS.labels("not_subscribed" if missing else "verified").inc()
        return missing

    return wrapper


# ---- at scrape time ---------------------------------------------------------------------------

ScrapeFunction = Callable[[], Iterable[Metric]]
_at_scrape: list[ScrapeFunction] = []


def on_scrape(collect: ScrapeFunction) -> None:
    """Call `collect` at every scrape of /metrics for the metric families it yields (gauges that
    need a query, counters kept elsewhere). It must be quick: Prometheus waits for it."""
    if collect not in _at_scrape:
        _at_scrape.append(collect)


def scrape_functions() -> list[ScrapeFunction]:
    return list(_at_scrape)
