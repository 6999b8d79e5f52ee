"""The base class of every project task: the retry policy and dead letters (SPEC Q2, T3).

`gmbot/celery.py` makes `GMTask` the app's task class, so every `@shared_task` gets it. What a
failure in a queued job leads to:

- `RetryAfter` (a 429, or our own budget being full): retry after exactly `retry_after` seconds.
  These waits do not count against the transient retries; after `wait_retries` of them the job is
  dead-lettered all the same, so a budget that never frees up cannot keep a job alive forever.
- `TransientError`, `SoftTimeLimitExceeded` and anything unexpected (a database outage, a bug):
  up to `transient_retries` retries with exponential backoff and full jitter, then a dead letter.
- `Unreachable`: the client has already marked the chat or user; no retry, no dead letter.
- `BadRequest`: Telegram refused for good; no retry, a dead letter at once, so the refusal is on
  record rather than silently dropped.
- `OutcomeUnknown`: a send got no answer in time and may have gone out; no retry (it could send
  twice), a dead letter at once, for an operator to check and replay or discard.

Jobs on the `low` queue run inside `bulk_traffic()`, so their Telegram calls also draw on the bulk
budget and interactive work always finds room.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, NoReturn

from celery import Task
from celery.exceptions import Ignore, Reject, TaskPredicate, TimeLimitExceeded
from celery.worker import state as worker_state
from celery.worker.request import Request
from django.utils import timezone

from apps.telegram.errors import (
    BadRequest,
    OutcomeUnknown,
    RetryAfter,
    TelegramError,
    Unreachable,
)
from apps.telegram.traffic import bulk_traffic
from celeryconfig import LOW, MAX_HELD_COUNTDOWN
from gmbot import metrics
from gmbot.env import envfloat

logger = logging.getLogger(__name__)

# The first failure time and the number of RetryAfter waits travel with the job in these message
# headers: `self.retry()` re-sends the message, so the headers reach the next attempt whichever
# worker takes it, with no extra storage and nothing to clean up once the job succeeds.
FIRST_FAILED_AT = "gmbot_first_failed_at"
WAITS = "gmbot_waits"
# When a job that waits longer than a worker may hold it is due (see GMTask.apply_async).
DUE_AT = "gmbot_due_at"

Action = Literal["retry", "dead_letter", "drop"]


@dataclass(frozen=True)
class Decision:
    action: Action
    countdown: float = 0.0
    is_wait: bool = False  # a RetryAfter wait, which does not use up a transient retry


class GMTask(Task):
    Request = "tasks.base:GMRequest"
    # Celery's own limit is off: `decide` counts transient retries and RetryAfter waits apart.
    max_retries = None
    transient_retries = 3
    wait_retries = 10
    retry_backoff_base = envfloat("TASK_RETRY_BACKOFF_BASE", 2.0)
    retry_backoff_cap = envfloat("TASK_RETRY_BACKOFF_CAP", 300.0)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        # Read before calling run: in a worker this is the job's request; a direct call pushes
        # its own empty request inside super().__call__ and has no queue, retries or headers.
        request = self.request
        queue = self.queue_for(request)
        try:
            if not request.called_directly and self._wait_longer(request, queue):
                raise Ignore()  # this message is done with; the re-published one carries the job
            with bulk_traffic(queue == LOW):
                return super().__call__(*args, **kwargs)
        except TaskPredicate:
            raise  # Retry, Ignore, Reject raised on purpose by the task itself
        except Exception as exc:
            if request.called_directly:
                raise  # not a queued job: nothing to retry or replay, the caller gets the error
            self.handle_failure(exc, request, queue)

    def apply_async(
        self,
        args: Any = None,
        kwargs: Any = None,
        task_id: str | None = None,
        producer: Any = None,
        link: Any = None,
        link_error: Any = None,
        shadow: str | None = None,
        **options: Any,
    ) -> Any:
        """Celery's, with long waits re-published instead of held (retries come here too).

        A worker holds a countdown job in Redis's `unacked` until it is due; a job held longer
        than the visibility timeout would be handed to a second worker and run twice. So a job
        is never held longer than celeryconfig.MAX_HELD_COUNTDOWN: a longer wait is sent for
        that long with the time it is due in a header, and each time it arrives early it is
        published again for what is left (`_wait_longer`), until it is due.
        """
        headers = dict(options.get("headers") or {})
        if headers.pop(DUE_AT, None) is not None or "headers" in options:
            options["headers"] = headers
        delay = _seconds_until(options.get("countdown"), options.get("eta"))
        if delay > MAX_HELD_COUNTDOWN:
            headers[DUE_AT] = (timezone.now() + timedelta(seconds=delay)).isoformat()
            options.update(countdown=MAX_HELD_COUNTDOWN, eta=None, headers=headers)
        return super().apply_async(
            args, kwargs, task_id, producer, link, link_error, shadow, **options
        )

    def _wait_longer(self, request: Any, queue: str) -> bool:
        """Publish the job again if it arrived before it is due (see apply_async)."""
        due = _parse_time((request.headers or {}).get(DUE_AT))
        if due is None:
            return False
        left = (due - timezone.now()).total_seconds()
        if left <= 0:
            return False
        self.signature_from_request(request, queue=queue, countdown=left).apply_async()
        logger.info("%s[%s] on %s is due in %.0fs; published again", self.name, request.id,
                    queue, left)  # fmt: skip
        return True

    def signature_from_request(
        self,
        request: Any = None,
        args: Any = None,
        kwargs: Any = None,
        queue: str | None = None,
        **extra_options: Any,
    ) -> Any:
        """Celery's, keeping the job's argsrepr and kwargsrepr: a retry shows in Flower and the
        logs what the first attempt showed (bot and update id), never the arguments (the text)."""
        request = self.request if request is None else request
        for name in ("argsrepr", "kwargsrepr"):
            shown = getattr(request, name, None)
            if shown is not None:
                extra_options.setdefault(name, shown)
        return super().signature_from_request(request, args, kwargs, queue, **extra_options)

    def queue_for(self, request: Any) -> str:
        """The queue the job came from, else the one its name routes to."""
        delivery = request.delivery_info or {}
        queue = delivery.get("routing_key")
        if queue:
            return str(queue)
        return str(self.app.amqp.router.route({}, self.name)["queue"].name)

    def decide(self, exc: BaseException, retries: int, waits: int) -> Decision:
        """What to do about `exc` in a job already retried `retries` times, `waits` of them
        RetryAfter waits. Pure: no side effects, so the policy can be tested on its own."""
        if isinstance(exc, Unreachable):
            return Decision("drop")
        if isinstance(exc, BadRequest | OutcomeUnknown):
            return Decision("dead_letter")
        if isinstance(exc, RetryAfter):
            if waits >= self.wait_retries:
                return Decision("dead_letter")
            return Decision("retry", countdown=float(exc.retry_after), is_wait=True)
        transient = retries - waits
        if transient >= self.transient_retries:
            return Decision("dead_letter")
        return Decision("retry", countdown=self.backoff(transient))

    def backoff(self, retried: int) -> float:
        """Full jitter: uniform in [0, min(cap, base * 2^retried)], so failing jobs spread out."""
        return random.uniform(0, min(self.retry_backoff_cap, self.retry_backoff_base * 2**retried))

    def handle_failure(self, exc: Exception, request: Any, queue: str) -> NoReturn:
        """Act on `decide`: raise Retry (re-sent), Ignore (dropped) or the error (dead-lettered)."""
        metrics.job_failed(exc)
        headers = dict(request.headers or {})
        retries = int(request.retries or 0)
        waits = int(headers.get(WAITS) or 0)
        first_failed_at = _parse_time(headers.get(FIRST_FAILED_AT)) or timezone.now()
        decision = self.decide(exc, retries, waits)
        where = f"{self.name}[{request.id}] on {queue}"

        if decision.action == "drop":
            logger.info("%s dropped, the chat or user is unreachable: %s", where, _describe(exc))
            raise Ignore()

        if decision.action == "retry":
            headers[FIRST_FAILED_AT] = first_failed_at.isoformat()
            headers[WAITS] = waits + int(decision.is_wait)
            logger.warning(
                "%s failed (attempt %d), retrying in %.2fs: %s: %s",
                where, retries + 1, decision.countdown, type(exc).__name__, _describe(exc),
            )  # fmt: skip
            try:
                # queue= keeps the job on its own queue whatever its name routes to.
                raise self.retry(
                    exc=exc, countdown=decision.countdown, queue=queue, headers=headers
                )
            except Reject:
                # Celery could not re-send it (broker down) and would drop the message: keep the
                # job as a dead letter instead, so it can be replayed.
                pass

        self._dead_letter(exc, request, queue, headers, first_failed_at)

    def _dead_letter(
        self,
        exc: Exception,
        request: Any,
        queue: str,
        headers: dict[str, Any],
        first_failed_at: datetime,
    ) -> NoReturn:
        retries = int(request.retries or 0)
        headers[FIRST_FAILED_AT] = first_failed_at.isoformat()
        job = Job(
            request.id, list(request.args or []), dict(request.kwargs or {}), queue, retries,
            getattr(request, "argsrepr", None) or "", getattr(request, "kwargsrepr", None) or "",
        )  # fmt: skip
        if not keep_dead_letter(self, job, exc, headers):
            # Losing the job is not an option: try again after the longest backoff; that attempt
            # dead-letters it if the job still fails.
            raise self.retry(
                exc=exc, countdown=self.retry_backoff_cap, queue=queue, headers=headers
            ) from None
        raise exc


@dataclass(frozen=True)
class Job:
    """What a dead letter records of a job, from the task's request or the worker's."""

    task_id: str
    args: list[Any]
    kwargs: dict[str, Any]
    queue: str
    retries: int
    argsrepr: str  # what Flower shows instead of the arguments
    kwargsrepr: str


def keep_dead_letter(task: GMTask, job: Job, exc: BaseException, headers: dict[str, Any]) -> bool:
    """Store the job as a dead letter: the one way both GMTask and GMRequest record one.

    Returns False when it could not be stored (PostgreSQL down, or refusing the row): that is
    reported loudly (an ERROR line, a counter, the operators' chat) and the caller keeps the job.
    """
    from apps.ops.services import record_dead_letter, report_unstored_dead_letter

    attempts = job.retries + 1
    try:
        record_dead_letter(
            task_name=task.name,
            task_id=job.task_id,
            args=job.args,
            kwargs=job.kwargs,
            queue=job.queue,
            exc=exc,
            attempts=attempts,
            first_failed_at=_parse_time(headers.get(FIRST_FAILED_AT)) or timezone.now(),
            argsrepr=job.argsrepr,
            kwargsrepr=job.kwargsrepr,
        )
    except Exception as error:
        report_unstored_dead_letter(
            task.name, job.task_id, job.queue, error, task.retry_backoff_cap
        )
        return False
    logger.error(
        "%s[%s] on %s dead-lettered after %d attempt(s): %s: %s",
        task.name, job.task_id, job.queue, attempts, type(exc).__name__, _describe(exc),
    )  # fmt: skip
    return True


class GMRequest(Request):
    """A job in the worker's main process. A hard time limit kills the child before GMTask can
    act, and Celery then acknowledges the message: the job is dead-lettered here, or it would be
    gone. It is not retried: a job that hung once past the hard limit would most likely hang
    again, holding a worker each time. Only when its dead letter cannot be stored is it sent
    again, after the longest backoff, as GMTask does."""

    def info(self, safe: bool = False) -> Any:
        """What inspection answers about the job (Flower's worker page lists scheduled, reserved
        and active jobs): its argsrepr and kwargsrepr, never its arguments."""
        return super().info(safe=True)

    def on_timeout(self, soft: bool, timeout: float) -> None:
        if not soft and not worker_state.should_terminate and isinstance(self.task, GMTask):
            self._dead_letter(self.task, TimeLimitExceeded(timeout))
        super().on_timeout(soft, timeout)

    def _dead_letter(self, task: GMTask, exc: TimeLimitExceeded) -> None:
        from django.db import connection

        info = self.request_dict
        headers = {name: info[name] for name in (FIRST_FAILED_AT, WAITS) if name in info}
        headers.setdefault(FIRST_FAILED_AT, timezone.now().isoformat())
        job = Job(
            self.id, list(self.args or []), dict(self.kwargs or {}), task.queue_for(self),
            int(info.get("retries") or 0), self.argsrepr or "", self.kwargsrepr or "",
        )  # fmt: skip
        try:
            if keep_dead_letter(task, job, exc, headers):
                return
        finally:
            # The main process runs no tasks; it should not keep a connection open between
            # the rare hard time limits (and children forked later close what they inherit).
            connection.close()
        # Not stored: send the job again after the longest backoff rather than lose it.
        resend: dict[str, Any] = {
            "retries": job.retries, "headers": headers,
            "argsrepr": job.argsrepr or None, "kwargsrepr": job.kwargsrepr or None,
        }  # fmt: skip
        try:
            task.apply_async(
                tuple(job.args), job.kwargs, task_id=job.task_id, queue=job.queue,
                countdown=task.retry_backoff_cap, **resend,
            )  # fmt: skip
        except Exception:
            logger.exception("%s[%s]: lost, neither stored nor sent again", self.name, self.id)


def _seconds_until(countdown: float | None, eta: datetime | None) -> float:
    if eta is not None:
        if timezone.is_naive(eta):
            eta = eta.replace(tzinfo=UTC)  # Celery reads a naive eta as UTC
        return (eta - timezone.now()).total_seconds()
    return float(countdown or 0)


def _describe(exc: BaseException) -> str:
    return exc.description if isinstance(exc, TelegramError) else str(exc)


def _parse_time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None
