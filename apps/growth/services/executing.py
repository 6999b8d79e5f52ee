"""Executing decided join requests (SPEC M2): from the stored queue, paced per group.

A request decided `approving` or `declining` waits in PostgreSQL. One executor job per group
(`tasks.normal.execute_join_requests`, at most one queued or running: a Redis mark) works the
group's queue oldest first:

1. it takes the group's next slot from the pace in Redis (`gmbot:growth:pace:<group>`): slots
   are 1/GROWTH_JOIN_RATE seconds apart on Redis's clock, whatever job or worker takes them; a
   call that came late (a slow answer, its jitter) is caught up on by the next, up to one
   interval, so the average holds, and a group that was idle longer gets no burst; it waits for
   its slot plus a random jitter of up to GROWTH_JOIN_JITTER of the interval (a wait longer than
   a second is handed back as a countdown for the next job instead of held);
2. it claims the oldest decided row by conditional update (`claim` = its token, only where
   `claim` is empty: FOR UPDATE SKIP LOCKED), so two jobs never call for one row;
3. it calls approveChatJoinRequest or declineChatJoinRequest, within the bot's shared budgets
   (apps/telegram), and writes the outcome through its claim.

Outcomes: done → `approved`/`declined`; USER_ALREADY_PARTICIPANT counts as done (approved; for a
decline, `expired`: the user is in already); HIDE_REQUESTER_MISSING counts as done (`expired`:
Telegram no longer knows the request); 429 or a full budget → the row given back, the next job
after retry_after; a transient error → the row given back with one more attempt, and the error
raised so the task's retries and dead letters apply (after GROWTH_MAX_ATTEMPTS the row is
`failed`); any other refusal → `failed` with Telegram's reason.

A row is executed once: it leaves `approving`/`declining` only through its claim. A claim left by
a job that died (older than any job can live) is given back by the re-drive, and the call made
again is answered USER_ALREADY_PARTICIPANT or HIDE_REQUESTER_MISSING if the first one had
reached Telegram: done, never a second approval.
"""

from __future__ import annotations

import contextlib
import logging
import random
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta

import redis
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, F, Q
from django.utils import timezone
from redis.commands.core import Script

import celeryconfig
from apps.bots.context import BotContext, context_for
from apps.chats.models import Group
from apps.growth.models import JoinRequest
from apps.telegram import client
from apps.telegram.errors import (
    BadRequest,
    OutcomeUnknown,
    RetryAfter,
    TransientError,
    Unreachable,
)
from gmbot import claims
from gmbot.redis import get_redis

logger = logging.getLogger(__name__)

Status = JoinRequest.Status
PACE_KEY = "gmbot:growth:pace:{group}"
EXECUTOR_KEY = "gmbot:growth:executor:{group}"
# An executor mark outlives a queued or running job: its longest countdown plus a batch.
EXECUTOR_MARK_SECONDS = 120
# The longest a job waits for its slot in place; a later slot is the next job's countdown.
MAX_SLOT_WAIT = 1.0
# A claim older than this belongs to a job that died: no job lives longer.
STALE_CLAIM = timedelta(seconds=celeryconfig.task_time_limit + 30)

# KEYS[1]: the group's pace. ARGV: interval (ms), the longest wait (ms). Reserves the next slot
# if it is at most the longest wait away. A slot up to one interval past is still given (a call
# that took long, or its jitter, is caught up on, so the average rate holds); one further past
# starts afresh at now (an idle group gets no burst). Returns the wait in ms (0 for a slot
# past), or -(wait) when the slot is too far and was not taken.
_PACE = """
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local interval = tonumber(ARGV[1])
local slot = tonumber(redis.call('GET', KEYS[1]) or '0')
if slot < now - interval then slot = now end
local wait = math.max(0, slot - now)
if wait > tonumber(ARGV[2]) then return -wait end
redis.call('SET', KEYS[1], slot + interval, 'PX', math.floor(interval * 2 + 60000))
return wait
"""
_pace_script: Script | None = None


class Later(Exception):
    """Stop this job: the next one should run after `seconds`."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"later: {seconds:.2f}s")
        self.seconds = seconds


def take_slot(group_id: int) -> float:
    """Seconds to wait (jitter included) before this group's next call; Later when its next
    slot is too far to wait for here. Without Redis the pace is kept by this job alone."""
    global _pace_script
    interval_ms = 1000.0 / settings.GROWTH_JOIN_RATE
    jitter = random.uniform(0, settings.GROWTH_JOIN_JITTER) * interval_ms / 1000
    client_ = get_redis()
    if _pace_script is None:
        _pace_script = client_.register_script(_PACE)
    try:
        wait_ms = int(
            _pace_script(
                keys=[PACE_KEY.format(group=group_id)],
                args=[round(interval_ms), round(MAX_SLOT_WAIT * 1000)],
                client=client_,
            )
        )
    except redis.RedisError:
        logger.warning("growth: Redis unavailable, group %s paced by this job alone", group_id)
        return interval_ms / 1000 + jitter
    if wait_ms < 0:
        raise Later(-wait_ms / 1000)
    return wait_ms / 1000 + jitter


def schedule(group_id: int, countdown: float = 0.0) -> None:
    """Queue the group's executor, after the current transaction commits, unless one is queued
    or running (its mark). Without Redis it is queued anyway: a second job only takes slots
    and rows like the first."""

    def send() -> None:
        if claims.claim(
            EXECUTOR_KEY.format(group=group_id),
            EXECUTOR_MARK_SECONDS,
            fail_open=True,
            note=f"growth: Redis unavailable, executor of group {group_id} queued unmarked",
        ):
            requeue(group_id, countdown)

    transaction.on_commit(send)


def requeue(group_id: int, countdown: float) -> None:
    """The executor's next job (its mark already held), the mark renewed."""
    from gmbot.celery import app

    with contextlib.suppress(redis.RedisError):
        get_redis().expire(
            EXECUTOR_KEY.format(group=group_id), EXECUTOR_MARK_SECONDS + int(countdown)
        )
    app.send_task(
        "tasks.normal.execute_join_requests", args=[group_id], countdown=max(0.0, countdown)
    )


def queued(group_id: int) -> Q:
    return Q(group_id=group_id, status__in=JoinRequest.QUEUED, claim="")


def claim_next(group_id: int, token: str) -> JoinRequest | None:
    """Claim the group's oldest decided, unclaimed request for this job: one UPDATE … WHERE id =
    (SELECT … FOR UPDATE SKIP LOCKED) RETURNING, so two jobs never take one row."""
    rows = JoinRequest.objects.filter(queued(group_id)).order_by("id").values("id")[:1]
    select, params = rows.query.sql_with_params()
    table = connection.ops.quote_name(JoinRequest._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET claim = %s, claimed_at = %s, attempts = attempts + 1 "  # noqa: S608
            f"WHERE id = ({select} FOR UPDATE SKIP LOCKED) "
            "RETURNING id, user_id, status, attempts",
            [token, timezone.now(), *params],
        )
        found = cursor.fetchone()
    if found is None:
        return None
    pk, user_id, status, attempts = found
    return JoinRequest(pk=pk, group_id=group_id, user_id=user_id, status=status, attempts=attempts)


def _mine(row: JoinRequest, token: str) -> Q:
    return Q(pk=row.pk, claim=token, status=row.status)


def _finish(
    row: JoinRequest, token: str, status: str, reason: str = "", description: str = ""
) -> None:
    JoinRequest.objects.filter(_mine(row, token)).update(
        status=status,
        reason=reason[:32],
        description=description[:255],
        executed_at=timezone.now(),
        claim="",
        claimed_at=None,
        updated_at=timezone.now(),
    )


def _give_back(row: JoinRequest, token: str, *, attempt_counts: bool) -> None:
    changes: dict[str, object] = {"claim": "", "claimed_at": None}
    if not attempt_counts:
        changes["attempts"] = F("attempts") - 1
    JoinRequest.objects.filter(_mine(row, token)).update(**changes)


@dataclass
class Batch:
    executed: int = 0
    countdown: float | None = None  # None: the queue is empty


def execute_one(bot: BotContext, chat_id: int, row: JoinRequest, token: str) -> None:
    """Call Telegram for one claimed row and write what became of it (see the module docstring).
    Raises Later for a 429 or a full budget, TransientError after giving the row back."""
    approve = row.status == Status.APPROVING
    try:
        if approve:
            bot.telebot.approve_chat_join_request(chat_id, row.user_id)
        else:
            bot.telebot.decline_chat_join_request(chat_id, row.user_id)
    except RetryAfter as exc:  # nothing was done: the row waits for the next job
        _give_back(row, token, attempt_counts=False)
        raise Later(float(exc.retry_after)) from None
    except BadRequest as exc:
        if exc.reason in ("join_request_missing", "already_participant"):
            # Done: Telegram no longer knows the request, or the user is in (for a decline).
            _finish(row, token, Status.EXPIRED, exc.reason, exc.description)
        else:
            _finish(row, token, Status.FAILED, exc.reason, exc.description)
        return
    except Unreachable as exc:
        _finish(row, token, Status.FAILED, exc.reason, exc.description)
        return
    except (TransientError, OutcomeUnknown) as exc:
        # A repeat is harmless (already participant / request missing), so it is retried.
        if row.attempts >= settings.GROWTH_MAX_ATTEMPTS:
            _finish(row, token, Status.FAILED, "no_answer", exc.description)
        else:
            _give_back(row, token, attempt_counts=True)
        raise
    outcome = client.last_outcome()
    reason = outcome.reason if outcome is not None and outcome.result == "already_done" else ""
    _finish(row, token, Status.APPROVED if approve else Status.DECLINED, reason or "")


def do_execute_batch(group_id: int) -> Batch:
    """Work the group's queue for up to GROWTH_BATCH_SECONDS at its pace. `countdown` None:
    nothing left (the executor mark is released); otherwise the next job's countdown.

    Safe to run twice, or side by side: slots come from one pace in Redis and rows are claimed
    by conditional update, each by one job (the module docstring)."""
    batch = Batch()
    group = Group.objects.filter(pk=group_id).select_related("bot").first()
    if group is None or not group.enabled:
        _release_mark(group_id)
        return batch
    bot = context_for(group.bot_id)
    if bot is None:  # the bot is inactive: its requests wait; the re-drive looks again
        _release_mark(group_id)
        return batch
    token = uuid.uuid4().hex
    deadline = time.monotonic() + settings.GROWTH_BATCH_SECONDS
    try:
        while time.monotonic() < deadline:
            if not JoinRequest.objects.filter(queued(group_id)).exists():
                break
            time.sleep(take_slot(group_id))
            row = claim_next(group_id, token)
            if row is None:
                break
            execute_one(bot, group.chat_id, row, token)
            batch.executed += 1
        else:
            batch.countdown = 0.0
            return batch
    except Later as later:
        batch.countdown = later.seconds
        return batch
    _release_mark(group_id)
    # A request decided while the mark was still held found it taken and queued nothing.
    if JoinRequest.objects.filter(queued(group_id)).exists():
        schedule(group_id)
    return batch


def _release_mark(group_id: int) -> None:
    claims.release(
        EXECUTOR_KEY.format(group=group_id),
        note=f"growth: executor mark of group {group_id} not released (Redis); it lapses",
    )


@dataclass
class Redrive:
    released: int = 0
    scheduled: int = 0
    expired: int = 0


def do_redrive() -> Redrive:
    """Re-drive the queue (beat, every minute): claims of jobs that died are given back, every
    group with decided rows gets its executor (unless one is marked), and requests held longer
    than GROWTH_HOLD_DAYS are expired. Safe to run twice: each step is a conditional update or
    a marked schedule."""
    report = Redrive()
    now = timezone.now()
    report.released = JoinRequest.objects.filter(
        status__in=JoinRequest.QUEUED, claimed_at__lt=now - STALE_CLAIM
    ).update(claim="", claimed_at=None)
    report.expired = JoinRequest.objects.filter(
        status__in=JoinRequest.WAITING,
        created_at__lt=now - timedelta(days=settings.GROWTH_HOLD_DAYS),
    ).update(status=Status.EXPIRED, reason="stale", executed_at=now, updated_at=now)
    groups = (
        JoinRequest.objects.filter(status__in=JoinRequest.QUEUED, claim="", group__enabled=True)
        .values("group_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for row in groups:
        schedule(row["group_id"])
        report.scheduled += 1
    if report.released or report.expired:
        logger.info("growth re-drive: %s", report)
    return report
