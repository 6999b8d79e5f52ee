"""Picking up broadcasts whose jobs are gone (SPEC B6: killing every worker mid-broadcast and
starting them again finishes it). Run by beat every minute and when a `low` worker starts.

A broadcast counts as having live jobs while its alive mark in Redis stands (every batch renews
it, for longer when it queues the next one with a countdown). Without it: a queued broadcast is
planned again (planning is claimed, so a second plan does nothing), a sending one gets its dead
claims settled and new sending jobs, a deletion a new deleting job. Starting a job for a
broadcast that still had one costs only a second chain: rows are claimed one attempt each.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from apps.broadcasts.models import Broadcast
from apps.broadcasts.services import deletion, planning, sending

logger = logging.getLogger(__name__)

# A queued broadcast younger than this is surely waiting for its planning job.
QUEUED_GRACE_SECONDS = 60


def anything_under_way() -> bool:
    """A broadcast queued, being sent or being deleted: something a dead worker may have left."""
    return Broadcast.objects.filter(
        Q(status__in=[Broadcast.Status.QUEUED, Broadcast.Status.SENDING])
        | Q(deletion=Broadcast.Deletion.DELETING)
    ).exists()


def do_resume_stalled() -> dict[str, int]:
    """Restart what lost its jobs. Safe to run twice: see the module docstring."""
    from gmbot.celery import app

    resumed = {"planned": 0, "sending": 0, "deleting": 0}
    grace = timezone.now() - timedelta(seconds=QUEUED_GRACE_SECONDS)
    for pk in Broadcast.objects.filter(
        status=Broadcast.Status.QUEUED, created_at__lt=grace
    ).values_list("pk", flat=True):
        app.send_task("tasks.normal.plan_broadcast", args=[pk])
        resumed["planned"] += 1
    for broadcast in Broadcast.objects.filter(status=Broadcast.Status.SENDING, deletion=""):
        if sending.is_alive(broadcast.pk) is False:
            sending.settle_sending_claims(broadcast)
            planning.start_senders(broadcast)
            resumed["sending"] += 1
    for pk in Broadcast.objects.filter(deletion=Broadcast.Deletion.DELETING).values_list(
        "pk", flat=True
    ):
        if sending.is_alive(pk) is False:
            deletion.start_deleter(pk)
            resumed["deleting"] += 1
    if any(resumed.values()):
        logger.warning("broadcasts resumed after their jobs were lost: %s", resumed)
    return resumed
