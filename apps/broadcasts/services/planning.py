"""Planning a broadcast (on `normal`): one delivery row per target, written once, then the
sending jobs are queued after the commit (SPEC B2, B6).

Targets are every enabled group of the bot, or the chosen set. A target is skipped, with the
reason on its row, when its group is disabled (chosen set only), deactivated for broadcasts,
has `final_message_allowed` off, has banned the live entry, or the bot is marked unreachable
there.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.broadcasts.models import Broadcast, Delivery, GroupBroadcasting, LiveBan
from apps.broadcasts.services import sending
from apps.chats.models import Group, UnreachableChat

logger = logging.getLogger(__name__)

SKIP_DISABLED = "disabled"
SKIP_DEACTIVATED = "deactivated"
SKIP_FINAL_OFF = "final_message_allowed_off"
SKIP_BANNED = "banned"
SKIP_UNREACHABLE = "unreachable"
INSERT_CHUNK = 2000


@dataclass(frozen=True)
class Target:
    group_id: int
    chat_id: int
    skip: str  # empty: send


def targets_of(broadcast: Broadcast) -> list[Target]:
    """Every target and whether it is skipped, in a handful of queries whatever the count."""
    groups = Group.objects.filter(bot_id=broadcast.bot_id)
    if broadcast.all_groups:
        groups = groups.filter(enabled=True)
    else:
        groups = groups.filter(pk__in=broadcast.chosen_groups.values("pk"))
    rows = list(groups.order_by("pk").values_list("pk", "chat_id", "enabled"))
    ids = [pk for pk, _, _ in rows]
    states = {state.group_id: state for state in GroupBroadcasting.objects.filter(group_id__in=ids)}
    banned = set()
    if broadcast.live_id is not None:
        banned = set(
            LiveBan.objects.filter(live_id=broadcast.live_id, group_id__in=ids).values_list(
                "group_id", flat=True
            )
        )
    unreachable = set(
        UnreachableChat.objects.filter(bot_id=broadcast.bot_id).values_list("chat_id", flat=True)
    )
    targets = []
    for pk, chat_id, enabled in rows:
        state = states.get(pk)
        skip = ""
        if not enabled:
            skip = SKIP_DISABLED
        elif state is not None and state.deactivated_at is not None:
            skip = SKIP_DEACTIVATED
        elif state is not None and not state.final_message_allowed:
            skip = SKIP_FINAL_OFF
        elif pk in banned:
            skip = SKIP_BANNED
        elif chat_id in unreachable:
            skip = SKIP_UNREACHABLE
        targets.append(Target(pk, chat_id, skip))
    return targets


def estimate(broadcast: Broadcast) -> Counter[str]:
    """What a broadcast not planned yet would do: {"send": n, <skip reason>: n, …}."""
    return Counter(target.skip or "send" for target in targets_of(broadcast))


def do_plan(broadcast_id: int) -> int:
    """Write the deliveries of a queued broadcast and start sending it. Returns the rows
    written. Safe to run twice: the broadcast is claimed (queued → sending) in the transaction
    that writes its rows, which are unique per (broadcast, group). Locks the broadcast's row."""
    with transaction.atomic():
        broadcast = Broadcast.objects.select_for_update().filter(pk=broadcast_id).first()
        if broadcast is None or broadcast.status != Broadcast.Status.QUEUED:
            return 0
        now = timezone.now()
        rows = [
            Delivery(
                broadcast_id=broadcast.pk,
                group_id=target.group_id,
                chat_id=target.chat_id,
                status=Delivery.Status.SKIPPED if target.skip else Delivery.Status.PENDING,
                reason=target.skip,
                finished_at=now if target.skip else None,
            )
            for target in targets_of(broadcast)
        ]
        for start in range(0, len(rows), INSERT_CHUNK):
            Delivery.objects.bulk_create(rows[start : start + INSERT_CHUNK], ignore_conflicts=True)
        broadcast.status = Broadcast.Status.SENDING
        broadcast.started_at = now
        broadcast.save(update_fields=["status", "started_at"])
        transaction.on_commit(lambda: start_senders(broadcast))
    logger.info("broadcast %s planned: %d deliveries", broadcast_id, len(rows))
    return len(rows)


def start_senders(broadcast: Broadcast) -> None:
    """Queue the broadcast's sending jobs: one chain each, every batch queues the next."""
    from gmbot.celery import app

    count = settings.BROADCAST_PAID_SENDERS if broadcast.paid else settings.BROADCAST_SENDERS
    sending.mark_alive(broadcast.pk, settings.BROADCAST_LEASE_SECONDS * 2)
    for _ in range(max(1, count)):
        app.send_task("tasks.low.send_broadcast_batch", args=[broadcast.pk])
