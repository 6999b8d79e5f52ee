"""The retry policy end to end: a real worker, real Redis broker, real PostgreSQL (SPEC Q2)."""

from __future__ import annotations

import time
import uuid

import pytest
from celery.exceptions import TimeLimitExceeded

from apps.ops.models import DeadLetter
from gmbot.redis import get_redis
from tests.conftest import wait_until
from tests.ops import jobs

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def send(queue: str, failures: int, error: str, description: str, **extra: object) -> str:
    key = f"test:ops:attempts:{uuid.uuid4().hex}"
    jobs.fail_then_succeed.apply_async(
        args=[key, failures, error, description], kwargs=extra, queue=queue
    )
    return key


def test_transient_error_is_retried_three_times_then_dead_lettered_and_replayed_once(
    jobs_worker, admin_client
):
    # given a job that fails with a 5xx four times, then would succeed
    key = send("normal", 4, "TransientError", "Internal Server Error")

    # when the worker has run it
    letter = wait_until(lambda: DeadLetter.objects.first(), timeout=15)

    # then it ran four times (three retries), all on its own queue, and one dead letter holds it
    tries = jobs.attempts(key)
    assert len(tries) == 4
    assert {t["queue"] for t in tries} == {"normal"}
    assert DeadLetter.objects.count() == 1
    assert letter.task_name == "tests.ops.jobs.fail_then_succeed"
    assert letter.exception_class == "apps.telegram.errors.TransientError"
    assert letter.description == "Internal Server Error"
    assert letter.attempts == 4
    assert letter.queue == "normal"
    assert letter.args == [key, 4, "TransientError", "Internal Server Error"]
    assert letter.status == "dead"
    # the first failure's time travelled with the retries
    assert tries[0]["at"] <= letter.first_failed_at.timestamp() < tries[1]["at"]
    assert letter.last_failed_at.timestamp() >= tries[3]["at"]
    assert "TransientError" in letter.traceback

    # when an operator replays it, twice
    first = admin_client.post(
        "/admin/dlq/normal/replay", {"ids": [letter.pk]}, content_type="application/json"
    )
    second = admin_client.post(
        "/admin/dlq/normal/replay", {"ids": [letter.pk]}, content_type="application/json"
    )

    # then it runs once more, on its queue, and succeeds; the second replay sends nothing
    assert first.status_code == 200
    assert [r["id"] for r in first.json()["replayed"]] == [letter.pk]
    assert second.json() == {
        "queue": "normal",
        "replayed": [],
        "skipped": [letter.pk],
        "failed": [],
    }
    wait_until(lambda: len(jobs.attempts(key)) == 5, timeout=10)
    time.sleep(1)
    assert len(jobs.attempts(key)) == 5
    assert jobs.attempts(key)[-1]["queue"] == "normal"
    letter.refresh_from_db()
    assert letter.status == "replayed"
    assert letter.replayed_task_id == first.json()["replayed"][0]["task_id"]
    assert DeadLetter.objects.count() == 1
    # acks_late: every delivery, retried or dead-lettered, was acknowledged
    wait_until(lambda: get_redis().hlen("unacked") == 0, timeout=5)


def test_retry_after_waits_exactly_and_does_not_dead_letter(jobs_worker):
    # given a job answered "retry after 2 s" once
    key = send("high", 1, "RetryAfter", "Too Many Requests: retry after 2", retry_after=2)

    # when it has run again
    wait_until(lambda: len(jobs.attempts(key)) == 2, timeout=10)

    # then the second attempt came at least 2 s after the first, and nothing was dead-lettered
    first, second = jobs.attempts(key)
    assert second["at"] - first["at"] >= 2.0
    assert second["queue"] == "high"
    assert first["bulk"] is False  # interactive queue, interactive budget
    assert not DeadLetter.objects.exists()


def test_unreachable_chat_is_neither_retried_nor_dead_lettered(jobs_worker):
    # given a job whose chat blocked the bot
    key = send("high", 1, "Unreachable", "Forbidden: bot was blocked by the user")

    # when it has run
    wait_until(lambda: jobs.attempts(key), timeout=10)
    time.sleep(1)

    # then it ran once and left no dead letter
    assert len(jobs.attempts(key)) == 1
    assert not DeadLetter.objects.exists()


def test_bad_request_is_dead_lettered_after_one_attempt(jobs_worker):
    # given a job Telegram refuses for good
    key = send("low", 1, "BadRequest", "Bad Request: message text is empty")

    # when it has run
    letter = wait_until(lambda: DeadLetter.objects.first(), timeout=10)

    # then it ran once, with bulk traffic since it is on `low`, and is on record as is
    tries = jobs.attempts(key)
    assert len(tries) == 1
    assert tries[0]["bulk"] is True
    assert letter.attempts == 1
    assert letter.queue == "low"
    assert letter.description == "Bad Request: message text is empty"
    assert letter.exception_class == "apps.telegram.errors.BadRequest"


def test_a_job_killed_by_the_hard_time_limit_is_dead_lettered(jobs_worker):
    # given a job that hangs past its hard time limit, where the soft one cannot stop it
    jobs.hang.apply_async(args=[5], queue="normal", soft_time_limit=0.5, time_limit=1)

    # when the worker kills it
    letter = wait_until(lambda: DeadLetter.objects.first(), timeout=10)

    # then it is on record instead of acknowledged and gone
    assert letter.task_name == "tests.ops.jobs.hang"
    assert letter.exception_class == f"{TimeLimitExceeded.__module__}.TimeLimitExceeded"
    assert (letter.queue, letter.args, letter.attempts) == ("normal", [5], 1)
