"""Sending a run of a periodic message (SPEC M6), on `normal`, a batch per job.

Each batch claims pending rows one at a time by conditional update (pending → sending), calls
Telegram for it through the shared budgets and records the answer through the same claim, with
the outcome rules broadcasts use (apps.broadcasts.services.sending.deliver):
- the message: `sent`, with its chat (a migrated group's new id) and message id;
- refused for the chat (403, no rights, chat not found, …): `failed`, with Telegram's reason and
  words (a 403 also marks the chat unreachable, so the next run skips it);
- refused for the message itself (a bad photo, a caption Telegram cannot parse): that row
  `failed`, and every row still pending in the run too, unsent: every group would refuse it;
- 429 or our own budget full: nothing sent, the row back to pending, the next batch after
  retry_after;
- no answer (a timeout, a connection lost, a 5xx): `unknown`, never sent again, since Telegram may
  have posted it.

The calls are bulk traffic: they draw on the bot's bulk share and keep the per-chat spacing, so a
periodic message to every group never crowds out the bot's interactive work. A row claimed by a
job that died mid-call stays `sending` until it is older than any job can live (the hard time
limit and a margin); then it is settled `unknown`.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

import celeryconfig
from apps.bots.context import context_for
from apps.broadcasts.services.sending import Later, NoAnswer, Refused, Sent, deliver
from apps.periodic import keyboards
from apps.periodic.models import PeriodicRun, PeriodicSend
from apps.periodic.services.runs import SKIP_BOT_INACTIVE
from apps.telegram.traffic import bulk_traffic

logger = logging.getLogger(__name__)

PENDING, SENDING = PeriodicSend.Status.PENDING, PeriodicSend.Status.SENDING
# A claim older than this belongs to a job that is gone: it ran out of its hard time limit.
CLAIM_TIMEOUT = timedelta(seconds=celeryconfig.task_time_limit + 30)


def claim_next(run: PeriodicRun) -> PeriodicSend | None:
    """Claim the run's lowest pending row for this job; rows other jobs are claiming right now
    are skipped (SKIP LOCKED). Locks that row for the claim only."""
    with transaction.atomic():
        row = (
            run.sends.select_for_update(skip_locked=True)
            .filter(status=PENDING)
            .order_by("id")
            .first()
        )
        if row is None:
            return None
        row.status, row.claimed_at = SENDING, timezone.now()
        row.save(update_fields=["status", "claimed_at"])
    return row


def settle_dead_claims(run: PeriodicRun, now: Any) -> int:
    return run.sends.filter(status=SENDING, claimed_at__lt=now - CLAIM_TIMEOUT).update(
        status=PeriodicSend.Status.UNKNOWN,
        reason="worker_lost",
        description="claimed by a job that died before recording Telegram's answer",
        finished_at=now,
    )


def do_send_batch(run_id: int) -> float | None:
    """Send up to PERIODIC_BATCH_SIZE rows of the run. Returns the seconds after which the next
    batch should run, or None when the run is over. Safe to run twice or side by side: each row
    is claimed by one job just before its call and leaves `pending` only once."""
    run = PeriodicRun.objects.select_related("message").filter(pk=run_id).first()
    if run is None or run.finished_at is not None:
        return None
    now = timezone.now()
    settle_dead_claims(run, now)
    message = run.message
    bot = context_for(message.bot_id)
    if bot is None:
        run.sends.filter(status=PENDING).update(
            status=PeriodicSend.Status.SKIPPED, reason=SKIP_BOT_INACTIVE, finished_at=now
        )
        _finish(run)
        return None
    extra: dict[str, Any] = {"reply_markup": keyboards.keyboard(message.buttons.all())}
    what = f"periodic message {message.pk} run {run.pk}"
    done = 0
    with bulk_traffic():
        while done < settings.PERIODIC_BATCH_SIZE:
            row = claim_next(run)
            if row is None:
                break
            done += 1
            outcome = deliver(bot.telebot, row.chat_id, message.text, message.photo, extra,
                              what=what)  # fmt: skip
            if isinstance(outcome, Later):
                _mine(row).update(status=PENDING, claimed_at=None)
                return max(outcome.seconds, 1.0)
            _record(row, outcome)
            if isinstance(outcome, Refused) and outcome.of_message:
                _refuse_the_rest(run, row, outcome)
                break
    if done >= settings.PERIODIC_BATCH_SIZE:
        return 0.0
    if run.sends.filter(status=SENDING).exists():
        # Another job holds a row; look again once a dead one's claim could be settled.
        return CLAIM_TIMEOUT.total_seconds()
    _finish(run)
    return None


def _mine(row: PeriodicSend) -> Any:
    return PeriodicSend.objects.filter(pk=row.pk, status=SENDING)


def _record(row: PeriodicSend, outcome: Sent | Refused | NoAnswer) -> None:
    now = timezone.now()
    if isinstance(outcome, Sent):
        _mine(row).update(
            status=PeriodicSend.Status.SENT,
            chat_id=outcome.message.chat.id,
            message_id=outcome.message.message_id,
            finished_at=now,
        )
    elif isinstance(outcome, Refused):
        _mine(row).update(
            status=PeriodicSend.Status.FAILED,
            reason=outcome.reason[:32],
            description=outcome.description[:255],
            finished_at=now,
        )
    else:
        _mine(row).update(
            status=PeriodicSend.Status.UNKNOWN,
            reason="no_answer",
            description=outcome.description[:255],
            finished_at=now,
        )


def _refuse_the_rest(run: PeriodicRun, row: PeriodicSend, outcome: Refused) -> None:
    logger.warning("periodic run %s: Telegram refused the message: %s", run.pk,
                   outcome.description)  # fmt: skip
    run.sends.filter(status=PENDING).update(
        status=PeriodicSend.Status.FAILED,
        reason=outcome.reason[:32],
        description=f"not sent: refused in chat {row.chat_id}: {outcome.description}"[:255],
        finished_at=timezone.now(),
    )


def _finish(run: PeriodicRun) -> None:
    if not run.sends.filter(status__in=[PENDING, SENDING]).exists():
        PeriodicRun.objects.filter(pk=run.pk, finished_at__isnull=True).update(
            finished_at=timezone.now()
        )
