"""Sending a broadcast (SPEC B2-B4, B6, B8): batches on `low`, each a claim on a chunk of pending
deliveries (services/claims.py), paced by the shared Redis budgets, never by sleeping here.

What each answer from Telegram makes of a delivery:
- the message: `sent`, with its chat (a migrated group's new id: the client followed it once)
  and message id; the group's failure count goes back to 0;
- refused for the chat (403, no rights, chat not found, …): `failed` with Telegram's reason and
  words; the group's failure count goes up, and the third in a row deactivates it for
  broadcasts and tells its owner (SPEC B4); a 403 also marks the chat unreachable (the client's
  hook, apps/chats);
- refused for the message itself (a bad photo, a caption Telegram cannot parse): that delivery
  `failed` and the broadcast stopped, since every group would refuse it the same way;
- BALANCE_TOO_LOW (a paid broadcast out of Stars): nothing sent, the delivery back to pending and
  the broadcast paused until someone adds Stars and resumes it;
- 429 or our own budget full: nothing sent, back to pending, the next batch after retry_after;
- no answer (a timeout, a connection lost, a 5xx): `unknown`, never sent again, since Telegram may
  have posted it; the batch stops and the next one comes after a pause.
"""

from __future__ import annotations

import logging
import time
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from telebot import TeleBot
from telebot.types import Message

from apps.bots.context import context_for
from apps.broadcasts import keyboards, texts
from apps.broadcasts.models import Broadcast, BroadcastBot, Delivery, GroupBroadcasting
from apps.broadcasts.services import claims
from apps.broadcasts.services.codes import debug_code
from apps.telegram.errors import BadRequest, RetryAfter, TelegramError, Unreachable
from apps.telegram.traffic import bulk_traffic, paid_traffic
from gmbot import claims as once
from gmbot.redis import get_redis

logger = logging.getLogger(__name__)

# Refusals of the message itself: every group would answer the same.
MESSAGE_REFUSALS = frozenset({"invalid_message"})
# How long a broadcast's jobs count as alive after their last batch queued the next one.
ALIVE_KEY = "gmbot:broadcast:{id}:alive"
# Seconds before the next batch after no answer from Telegram, and after finding only rows
# still claimed by a live attempt.
PAUSE_AFTER_NO_ANSWER = 5.0
# A batch looks whether its broadcast is still being sent (not paused, stopped, taken back) at
# least this often.
STATUS_CHECK_SECONDS = 1.0

PENDING, SENDING = Delivery.Status.PENDING, Delivery.Status.SENDING


@dataclass(frozen=True)
class Sent:
    message: Message


@dataclass(frozen=True)
class Refused:
    reason: str
    description: str
    of_message: bool = False  # the message itself, not the chat


@dataclass(frozen=True)
class NoAnswer:
    description: str


@dataclass(frozen=True)
class Later:
    """Not sent: try again after `seconds` (a 429, a full budget, no Stars)."""

    seconds: float
    pause_reason: str = ""  # set: pause the broadcast instead


Outcome = Sent | Refused | NoAnswer | Later


def sending_attempt() -> claims.Attempt:
    return claims.Attempt(column="status", free=PENDING, busy=SENDING)


def paid_rate_of(broadcast: Broadcast) -> int:
    """The rate a paid broadcast goes out at; 0 for a free one (or a bot that stopped allowing
    paid broadcasting: the broadcast then goes at the free rate)."""
    if not broadcast.paid:
        return 0
    row = BroadcastBot.objects.filter(bot_id=broadcast.bot_id, allow_paid_broadcast=True).first()
    return row.paid_rate if row else 0


def mark_alive(broadcast_id: int, seconds: float) -> None:
    """The broadcast's jobs are alive (a batch runs or is queued) for `seconds` more."""
    try:
        get_redis().set(ALIVE_KEY.format(id=broadcast_id), "1", ex=max(1, int(seconds) + 1))
    except Exception:
        logger.warning("broadcast %s: could not mark its jobs alive (Redis)", broadcast_id)


def is_alive(broadcast_id: int) -> bool | None:
    """None when Redis cannot say."""
    try:
        return bool(get_redis().exists(ALIVE_KEY.format(id=broadcast_id)))
    except Exception:
        return None


def settle_sending_claims(broadcast: Broadcast) -> int:
    """Settle dead attempts' claims of this broadcast: each such delivery becomes `unknown`."""

    def unknown(rows: QuerySet[Delivery]) -> int:
        return rows.update(
            status=Delivery.Status.UNKNOWN,
            reason="worker_lost",
            description="claimed by a job that died before recording Telegram's answer",
            finished_at=timezone.now(),
        )

    return claims.settle_dead_claims(broadcast.deliveries.all(), "status", SENDING, unknown)


def do_send_batch(broadcast_id: int) -> float | None:
    """Send one batch of the broadcast (BROADCAST_BATCH_SIZE deliveries, or the paid size).
    Returns the seconds after which the next batch should run, or None when there is nothing
    more to do (done, paused, stopped).

    Safe to run twice, or side by side: rows are claimed by conditional update, each by one
    attempt, just before their calls, and a row leaves `pending` only once
    (services/claims.py)."""
    broadcast = Broadcast.objects.filter(pk=broadcast_id).select_related("bot", "live").first()
    if broadcast is None or broadcast.status != Broadcast.Status.SENDING:
        return None
    rate = paid_rate_of(broadcast)
    size = settings.BROADCAST_PAID_BATCH_SIZE if rate else settings.BROADCAST_BATCH_SIZE
    # At the free rate one message is claimed at a time, so a job killed mid-call costs one
    # `unknown`; a paid batch claims a few dozen at once, which saves a commit per message.
    step = settings.BROADCAST_PAID_CLAIM if rate else 1
    live_claims = settle_sending_claims(broadcast)
    bot = context_for(broadcast.bot_id)
    if bot is None:
        _pause(broadcast, "the bot is inactive")
        return None
    attempt = sending_attempt()
    try:
        attempt.start()
    except claims.NoLease:
        logger.warning("broadcast %s: no lease (Redis unavailable), next batch later", broadcast.pk)
        return PAUSE_AFTER_NO_ANSWER
    mark_alive(broadcast.pk, settings.BROADCAST_LEASE_SECONDS * 2)
    done = 0
    # Groups whose failure count a success must reset: read once a batch, not once a message.
    failing = set(
        GroupBroadcasting.objects.filter(
            consecutive_failures__gt=0, group__deliveries__broadcast=broadcast
        ).values_list("group_id", flat=True)
    )
    still_sending = Broadcast.objects.filter(pk=broadcast.pk, status=Broadcast.Status.SENDING)
    checked = time.monotonic()
    try:
        with bulk_traffic(), paid_traffic(rate):
            while done < size:
                if time.monotonic() - checked > STATUS_CHECK_SECONDS:
                    if not still_sending.exists():
                        return None  # paused, stopped or taken back from the admin or the API
                    checked = time.monotonic()
                rows = attempt.claim(broadcast.deliveries.all(), min(step, size - done))
                if not rows:
                    break
                done += len(rows)
                ended, countdown = _send_rows(
                    bot.telebot, broadcast, attempt, rows, failing, paid=rate > 0
                )
                if ended:
                    return countdown
    finally:
        attempt.end()
    if done:
        return 0.0
    if live_claims:
        # Another attempt still holds rows: look again once its lease could have lapsed.
        mark_alive(broadcast.pk, settings.BROADCAST_LEASE_SECONDS * 2)
        return settings.BROADCAST_LEASE_SECONDS / 2
    _finish(broadcast)
    return None


def _send_rows(
    telebot: TeleBot, broadcast: Broadcast, attempt: claims.Attempt, rows: list[Delivery],
    failing: set[int], *, paid: bool,
) -> tuple[bool, float | None]:  # fmt: skip
    """Send the rows just claimed and record what became of them. Returns (the batch ends here,
    the seconds until the next batch or None for no next batch)."""
    results: list[tuple[Delivery, Outcome]] = []
    ended, stop = False, None
    for index, row in enumerate(rows):
        if not attempt.keep_alive():
            attempt.release(rows[index:])
            logger.warning("broadcast %s: lease lapsed, batch stopped", broadcast.pk)
            ended, stop = True, 0.0
            break
        outcome = send_one(telebot, broadcast, row, paid=paid)
        if isinstance(outcome, Later):
            attempt.release(rows[index:])
            ended = True
            if outcome.pause_reason:
                _pause(broadcast, outcome.pause_reason)
            else:
                mark_alive(broadcast.pk, outcome.seconds + settings.BROADCAST_LEASE_SECONDS)
                stop = outcome.seconds
            break
        results.append((row, outcome))
        if isinstance(outcome, NoAnswer) or (isinstance(outcome, Refused) and outcome.of_message):
            attempt.release(rows[index + 1 :])
            ended = True
            stop = PAUSE_AFTER_NO_ANSWER if isinstance(outcome, NoAnswer) else None
            break
    if not record(attempt, results, failing):
        # A row was settled by someone else: this attempt had lost its claims.
        return True, 0.0
    for _, outcome in results:
        if isinstance(outcome, Refused) and outcome.of_message:
            _stop(broadcast, f"Telegram refused the message: {outcome.description}")
    return ended, stop


def message_text(broadcast: Broadcast, code: str) -> str:
    return broadcast.text + texts.DEBUG_LINE.format(code=code)


def send_one(telebot: TeleBot, broadcast: Broadcast, row: Delivery, *, paid: bool) -> Outcome:
    """One message to one chat, and what Telegram's answer makes of it."""
    code = debug_code(row.pk)
    ban = broadcast.live_id if broadcast.ban_button and broadcast.live_id else None
    markup = keyboards.broadcast_keyboard(broadcast.button_url, ban)
    extra: dict[str, Any] = {"reply_markup": markup}
    if paid:
        extra["allow_paid_broadcast"] = True
    return deliver(telebot, row.chat_id, message_text(broadcast, code), broadcast.photo, extra,
                   what=f"broadcast {broadcast.pk}")  # fmt: skip


def deliver(
    telebot: TeleBot, chat_id: int, text: str, photo: str, extra: dict[str, Any], *, what: str
) -> Outcome:
    """Send `text` (or `photo` with `text` as its caption) to one chat, with `extra` (the
    keyboard, …), and classify Telegram's answer. Shared with apps/periodic; `what` names the
    sender in the log."""
    try:
        if photo:
            message = telebot.send_photo(chat_id, photo, caption=text, **extra)
        else:
            message = telebot.send_message(chat_id, text, **extra)
    except RetryAfter as exc:  # a 429, or our own budget (RateLimited): nothing was sent
        return Later(float(exc.retry_after))
    except Unreachable as exc:
        return Refused(exc.reason, exc.description)
    except BadRequest as exc:
        if exc.reason == "balance_too_low":
            return Later(0.0, pause_reason="the bot's Star balance is too low for paid broadcast")
        return Refused(exc.reason, exc.description, of_message=exc.reason in MESSAGE_REFUSALS)
    except TelegramError as exc:
        return NoAnswer(exc.description)
    except Exception as exc:
        # Anything else in the middle of the call: it may have reached Telegram.
        logger.exception("%s → %s: the call failed", what, chat_id)
        return NoAnswer(type(exc).__name__)
    return Sent(message)


def record(
    attempt: claims.Attempt, results: list[tuple[Delivery, Outcome]], failing: set[int]
) -> bool:
    """Write the outcomes, each through the attempt's claim, with what they mean for the groups
    (`failing`: the groups whose failure count a success resets), in one transaction. False when
    a claim was no longer this attempt's."""
    now = timezone.now()
    # One statement needs no transaction of its own (autocommit); more, or a failure's
    # bookkeeping, go in one, for one commit.
    alone = (
        len(results) == 1
        and isinstance(results[0][1], Sent)
        and results[0][0].group_id not in failing
    )
    with nullcontext() if alone else transaction.atomic():
        for row, outcome in results:
            code = debug_code(row.pk)
            if isinstance(outcome, Sent):
                written = attempt.mine(row).update(
                    status=Delivery.Status.SENT,
                    chat_id=outcome.message.chat.id,
                    message_id=outcome.message.message_id,
                    debug_code=code,
                    reason="",
                    description="",
                    finished_at=now,
                )
                if written and row.group_id in failing:
                    GroupBroadcasting.objects.filter(group_id=row.group_id).update(
                        consecutive_failures=0
                    )
                    failing.discard(row.group_id)
            elif isinstance(outcome, Refused):
                written = attempt.mine(row).update(
                    status=Delivery.Status.FAILED,
                    debug_code=code,
                    reason=outcome.reason[:32],
                    description=outcome.description[:255],
                    finished_at=now,
                )
                if written and not outcome.of_message:
                    note_failure(row.group_id, outcome.reason, outcome.description)
            else:
                assert isinstance(outcome, NoAnswer)
                written = attempt.mine(row).update(
                    status=Delivery.Status.UNKNOWN,
                    debug_code=code,
                    reason="no_answer",
                    description=outcome.description[:255],
                    finished_at=now,
                )
            if not written:
                return False
    return True


def note_failure(group_id: int, reason: str, description: str) -> None:
    """One more failure in a row for the group; the one that reaches BROADCAST_MAX_FAILURES
    deactivates it for broadcasts and tells its owner, once (claim_row). Locks the group's
    broadcasting row for the update."""
    GroupBroadcasting.objects.get_or_create(group_id=group_id)
    GroupBroadcasting.objects.filter(group_id=group_id).update(
        consecutive_failures=F("consecutive_failures") + 1
    )
    deactivated = once.claim_row(
        GroupBroadcasting.objects.filter(
            group_id=group_id,
            deactivated_at__isnull=True,
            consecutive_failures__gte=settings.BROADCAST_MAX_FAILURES,
        ),
        deactivated_at=timezone.now(),
        deactivation_reason=f"{reason}: {description}"[:255],
    )
    if deactivated:
        from gmbot.celery import app

        logger.info("group %s deactivated for broadcasts after failures: %s", group_id, reason)
        transaction.on_commit(
            lambda: app.send_task("tasks.normal.tell_owner_deactivated", args=[group_id])
        )


def _finish(broadcast: Broadcast) -> None:
    left = broadcast.deliveries.filter(status__in=[PENDING, SENDING]).exists()
    if not left:
        Broadcast.objects.filter(pk=broadcast.pk, status=Broadcast.Status.SENDING).update(
            status=Broadcast.Status.DONE, finished_at=timezone.now()
        )


def _pause(broadcast: Broadcast, reason: str) -> None:
    logger.warning("broadcast %s paused: %s", broadcast.pk, reason)
    Broadcast.objects.filter(pk=broadcast.pk, status=Broadcast.Status.SENDING).update(
        status=Broadcast.Status.PAUSED, status_reason=reason
    )


def _stop(broadcast: Broadcast, reason: str) -> None:
    logger.warning("broadcast %s stopped: %s", broadcast.pk, reason)
    Broadcast.objects.filter(
        Q(status=Broadcast.Status.SENDING) | Q(status=Broadcast.Status.PAUSED), pk=broadcast.pk
    ).update(
        status=Broadcast.Status.STOPPED, status_reason=reason[:255], finished_at=timezone.now()
    )
