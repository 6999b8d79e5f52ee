"""Taking a broadcast back (SPEC B5): every sent message deleted, paced like sending (the same
budgets, on `low`), each outcome recorded on its delivery:

- `deleted`, or `already_deleted` (someone, or the BAN button, removed it first);
- `too_old`: Telegram deletes nothing older than 48 hours;
- `wrong_bot`: Telegram does not take it for this bot's message ("message can't be deleted");
- `not_enough_rights`: Telegram wants rights the bot lacks there;
- `chat_unreachable`: the bot was removed or blocked (403), the chat is gone, or the group
  migrated to a supergroup since: its old messages stay in the old chat, and a message id means
  another message in the new one, so no call is made.

A message that went out but whose answer was lost (`unknown`) has no known id: nothing to delete.
Deleting is claimed like sending (services/claims.py); a claim of a job that died goes back to be
tried again, since deleting twice is harmless (the second answer is `already_deleted`).
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from apps.bots.context import context_for
from apps.broadcasts.models import Broadcast, Delivery
from apps.broadcasts.services import claims, sending
from apps.chats.models import Group
from apps.telegram.client import last_outcome
from apps.telegram.errors import BadRequest, RetryAfter, TelegramError, Unreachable
from apps.telegram.traffic import bulk_traffic

logger = logging.getLogger(__name__)

D = Delivery.Deletion
_REFUSALS = {
    "too_old": D.TOO_OLD,
    "cant_delete": D.WRONG_BOT,
    "not_enough_rights": D.NOT_ENOUGH_RIGHTS,
    "chat_not_found": D.CHAT_UNREACHABLE,
}


def deleting_attempt() -> claims.Attempt:
    return claims.Attempt(column="deletion", free="", busy=D.DELETING)


def to_delete(broadcast: Broadcast) -> QuerySet[Delivery]:
    return broadcast.deliveries.filter(status=Delivery.Status.SENT, message_id__isnull=False)


def do_request_deletion(broadcast: Broadcast) -> bool:
    """Delete the broadcast everywhere: stop sending it, then queue the deleting job after the
    commit. False when it was asked for already (claimed by conditional update)."""
    claimed = Broadcast.objects.filter(pk=broadcast.pk, deletion="").update(
        deletion=Broadcast.Deletion.DELETING, deletion_requested_at=timezone.now()
    )
    if not claimed:
        return False
    unfinished = [Broadcast.Status.DRAFT, Broadcast.Status.QUEUED, Broadcast.Status.SENDING,
                  Broadcast.Status.PAUSED]  # fmt: skip
    Broadcast.objects.filter(pk=broadcast.pk, status__in=unfinished).update(
        status=Broadcast.Status.STOPPED, status_reason="deleted everywhere"
    )
    transaction.on_commit(lambda: start_deleter(broadcast.pk))
    return True


def start_deleter(broadcast_id: int) -> None:
    from gmbot.celery import app

    sending.mark_alive(broadcast_id, settings.BROADCAST_LEASE_SECONDS * 2)
    app.send_task("tasks.low.delete_broadcast_batch", args=[broadcast_id])


def do_delete_batch(broadcast_id: int) -> float | None:
    """Delete one batch of the broadcast's messages. Returns the seconds until the next batch,
    or None when every message has its outcome. Safe to run twice or side by side (claims)."""
    broadcast = Broadcast.objects.filter(pk=broadcast_id).first()
    if broadcast is None or broadcast.deletion != Broadcast.Deletion.DELETING:
        return None
    # A send still in flight would post a message after its deletion pass: wait for it.
    if sending.settle_sending_claims(broadcast):
        sending.mark_alive(broadcast.pk, settings.BROADCAST_LEASE_SECONDS * 2)
        return settings.BROADCAST_LEASE_SECONDS / 2
    busy = claims.settle_dead_claims(
        to_delete(broadcast), "deletion", D.DELETING, lambda rows: rows.update(deletion="")
    )
    attempt = deleting_attempt()
    try:
        attempt.start()
    except claims.NoLease:
        return sending.PAUSE_AFTER_NO_ANSWER
    try:
        rows = attempt.claim(to_delete(broadcast), settings.BROADCAST_BATCH_SIZE)
        if not rows:
            if busy:
                return settings.BROADCAST_LEASE_SECONDS / 2
            Broadcast.objects.filter(pk=broadcast.pk, deletion=Broadcast.Deletion.DELETING).update(
                deletion=Broadcast.Deletion.DELETED, deleted_at=timezone.now()
            )
            return None
        sending.mark_alive(broadcast.pk, settings.BROADCAST_LEASE_SECONDS * 2)
        return _delete_all(broadcast, attempt, rows)
    finally:
        attempt.end()


def _delete_all(broadcast: Broadcast, attempt: claims.Attempt, rows: list[Delivery]) -> float:
    bot = context_for(broadcast.bot_id)
    if bot is None:
        attempt.release(rows)
        logger.warning("broadcast %s: its bot is inactive, deletion waits", broadcast.pk)
        return sending.PAUSE_AFTER_NO_ANSWER * 12
    now_at = dict(
        Group.objects.filter(pk__in=[r.group_id for r in rows]).values_list("pk", "chat_id")
    )
    with bulk_traffic():
        for index, row in enumerate(rows):
            if not attempt.keep_alive():
                attempt.release(rows[index:])
                return 0.0
            if now_at.get(row.group_id) != row.chat_id:
                outcome, words = D.CHAT_UNREACHABLE, "the group migrated to a supergroup since"
            else:
                try:
                    bot.telebot.delete_message(row.chat_id, int(row.message_id or 0))
                except RetryAfter as exc:
                    attempt.release(rows[index:])
                    return float(exc.retry_after)
                except Unreachable as exc:
                    outcome, words = D.CHAT_UNREACHABLE, exc.description
                except BadRequest as exc:
                    outcome, words = _REFUSALS.get(exc.reason, D.NOT_ENOUGH_RIGHTS), exc.description
                except TelegramError:
                    # No answer: deleting again is harmless, so the row waits for the next batch.
                    attempt.release(rows[index:])
                    return sending.PAUSE_AFTER_NO_ANSWER
                else:
                    done = last_outcome()
                    already = done is not None and done.reason == "already_deleted"
                    outcome, words = (D.ALREADY_DELETED, "") if already else (D.DELETED, "")
            written = attempt.mine(row).update(
                deletion=outcome, deletion_description=words[:255], deleted_at=timezone.now()
            )
            if not written:
                attempt.release(rows[index + 1 :])
                return 0.0
    return 0.0
