"""What other apps read of member activity and the kicker (SPEC M3, M4): `/growth` shows the
last kick run of a group and when the next one starts."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import cast

from celery.schedules import crontab
from django.utils import timezone

from apps.chats.models import Group
from apps.members.models import KickRun

KICK_BEAT_ENTRY = "kick-inactive-members"


def last_run(group: Group | int) -> KickRun | None:
    """The group's latest kick run (running or over), or None when it never had one."""
    group_id = group if isinstance(group, int) else group.pk
    return KickRun.objects.filter(group_id=group_id).order_by("-started_at").first()


def next_run_at(now: datetime | None = None) -> datetime:
    """When beat next starts the kick runs, read from the beat entry itself (celeryconfig)."""
    from celeryconfig import beat_schedule

    now = now or timezone.now()
    schedule = cast(crontab, beat_schedule[KICK_BEAT_ENTRY]["schedule"])
    # Celery's estimate is taken on its own clock, a moment after `now`: to the whole minute.
    due = now + schedule.remaining_estimate(now) + timedelta(seconds=1)
    return due.replace(second=0, microsecond=0)
