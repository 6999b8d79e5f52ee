"""GMTask's decisions, one failure at a time, without a worker (SPEC Q2, T3)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.db import OperationalError

from apps.telegram.errors import (
    BadRequest,
    RateLimited,
    RetryAfter,
    TransientError,
    Unreachable,
)
from gmbot.celery import app
from tasks import high, low, normal
from tasks.base import Decision, GMTask


@pytest.fixture
def task() -> GMTask:
    task = normal.alert_on_dead_letters
    assert isinstance(task, GMTask)
    return task


def test_every_project_task_gets_the_retry_policy():
    app.loader.import_default_modules()
    ours = [t for name, t in app.tasks.items() if name.startswith("tasks.")]
    assert ours and all(isinstance(t, GMTask) for t in ours)


def test_retry_after_retries_after_exactly_its_wait_without_using_a_transient_retry(task):
    decision = task.decide(RetryAfter("Too Many Requests: retry after 7", retry_after=7), 2, 0)
    assert decision == Decision("retry", countdown=7.0, is_wait=True)
    # our own budget being full behaves the same way
    assert task.decide(RateLimited("budget", retry_after=1.5), 0, 0).countdown == 1.5


def test_retry_after_waits_are_capped_then_dead_lettered(task):
    exc = RetryAfter("Too Many Requests: retry after 1", retry_after=1)
    assert task.decide(exc, 12, 9).action == "retry"
    assert task.decide(exc, 13, 10).action == "dead_letter"


@pytest.mark.parametrize(
    "exc",
    [
        TransientError("Internal Server Error"),
        SoftTimeLimitExceeded(),
        OperationalError("the database system is shutting down"),
        KeyError("a bug"),
    ],
)
def test_transient_and_unexpected_errors_retry_three_times_then_dead_letter(task, exc):
    assert [task.decide(exc, n, 0).action for n in range(4)] == ["retry"] * 3 + ["dead_letter"]
    # RetryAfter waits in between do not use up the three retries
    assert task.decide(exc, 5, 3).action == "retry"
    assert task.decide(exc, 6, 3).action == "dead_letter"


def test_backoff_is_exponential_with_full_jitter_under_the_cap(task, monkeypatch):
    monkeypatch.setattr(task, "retry_backoff_base", 2.0)
    monkeypatch.setattr(task, "retry_backoff_cap", 300.0)
    for retried, ceiling in [(0, 2), (1, 4), (2, 8), (10, 300)]:
        delays = [task.backoff(retried) for _ in range(200)]
        assert all(0 <= d <= ceiling for d in delays)
        assert max(delays) > ceiling / 2  # spread over the range, not fixed
    assert task.decide(TransientError("Bad Gateway"), 1, 0).countdown <= 4


def test_unreachable_is_dropped_and_bad_request_is_dead_lettered_at_once(task):
    assert task.decide(Unreachable("Forbidden: bot was blocked by the user"), 0, 0).action == (
        "drop"
    )
    assert task.decide(BadRequest("Bad Request: chat not found"), 0, 0).action == "dead_letter"


def test_the_queue_is_the_one_the_job_came_from_else_its_route():
    request = SimpleNamespace(delivery_info={"routing_key": "high", "exchange": "high"})
    assert low.ping.queue_for(request) == "high"
    assert low.ping.queue_for(SimpleNamespace(delivery_info=None)) == "low"
    assert high.ping.queue_for(SimpleNamespace(delivery_info={})) == "high"


def test_a_direct_call_raises_the_error_itself(task, monkeypatch):
    # outside a worker there is nothing to retry or dead-letter: the caller sees the error
    def fail() -> None:
        raise TransientError("Internal Server Error")

    monkeypatch.setattr("apps.ops.services.alert_on_dead_letters", fail)
    with pytest.raises(TransientError):
        task()
