"""What other apps read of member activity and the kicker (SPEC M3, M4): `/growth` shows the
group's activity, its kick rule, when the next run starts and what the last one did
(`growth_lines`, added to the answer in apps/members/apps.py)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, cast

from celery.schedules import crontab
from django.db.models import Count, Q
from django.utils import timezone

from apps.chats.models import Group

if TYPE_CHECKING:
    from apps.growth.models import GrowthProfile
from apps.members import texts
from apps.members.models import KickRun, MemberActivity

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


# The window of "active" in /growth when the group has no kick rule.
ACTIVE_WINDOW_DAYS = 30


def growth_lines(group: Group, profile: GrowthProfile) -> list[str]:
    """The /growth lines of member activity and the kicker: who was active (within the kick
    rule's days, or 30), the rule and the next run, and the last run. Two queries: a count over
    the kick index and the last run."""
    now = timezone.now()
    days = profile.kick_after_days or ACTIVE_WINDOW_DAYS
    present = MemberActivity.objects.filter(group=group, left_at__isnull=True)
    counts = present.aggregate(
        present=Count("pk"), active=Count("pk", filter=Q(active_at__gte=now - timedelta(days=days)))
    )
    lines = [texts.ACTIVITY.format(days=days, **counts)]
    if not profile.kick_after_days:
        lines.append(texts.KICK_OFF)
    else:
        action = texts.KICK_DRY_RUN if profile.kick_dry_run else texts.KICK_REMOVES
        lines.append(texts.KICK_RULE.format(days=days, action=action, at=next_run_at(now)))
    run = last_run(group)
    if run is None:
        lines.append(texts.LAST_NONE)
    else:
        template = texts.LAST_DRY_RUN if run.dry_run else texts.LAST_RUN
        lines.append(template.format(
            at=run.started_at, status=run.status, candidates=run.candidates,
            removed=run.removed, listed=len(run.listed), skipped=sum(run.skipped.values()),
            errors=run.error_count,
        ))  # fmt: skip
    return lines
