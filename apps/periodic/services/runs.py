"""Runs of a periodic message (SPEC M6): which scheduled run a job belongs to, and planning it.

A job beat sent is one scheduled run. The run is written once per (message, run key), with one
send row per target unique per (run, group); so whatever repeats — the job redelivered after a
worker died, sent twice by two beats, run again by hand — finds the run and its rows and sends
to no chat a second time.

The run key is the slot of the schedule the job's first start falls in: for an interval, the
interval's window since the epoch (every 30 minutes: 10:00, 10:30, …); for a crontab, its last
firing time at or before that start, in its time zone, to the minute. A job is also looked up by
its Celery task id first, so a redelivery that comes after the next slot began still finds its
own run.

Targets are every enabled group of the bot, or the chosen ones. Rows are skipped, with their
reason, when the bot is inactive or no longer runs the feature, the group is disabled (chosen
groups), or the bot is marked unreachable there (apps/chats).
"""

from __future__ import annotations

import logging
import zoneinfo
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.chats.models import Group, UnreachableChat
from apps.periodic.features import NAME as FEATURE
from apps.periodic.models import PeriodicMessage, PeriodicRun, PeriodicSend
from apps.periodic.services.schedule import Schedule

logger = logging.getLogger(__name__)

SKIP_BOT_INACTIVE = "bot_inactive"
SKIP_FEATURE_OFF = "feature_off"
SKIP_DISABLED = "disabled"
SKIP_UNREACHABLE = "unreachable"
PURGE_CHUNK = 500
# How far back a crontab's last firing is looked for (a yearly one on 29 February: 4 years).
CRON_LOOKBACK_DAYS = 4 * 366 + 1


def run_key(schedule: Schedule, now: datetime) -> str:
    """The scheduled run `now` falls in (see the module docstring), as an ISO time in UTC."""
    if schedule.kind == PeriodicMessage.Kind.INTERVAL:
        seconds = schedule.interval_seconds()
        start = int(now.timestamp()) // seconds * seconds
        slot = datetime.fromtimestamp(start, tz=zoneinfo.ZoneInfo("UTC"))
    else:
        slot = last_firing(schedule, now) or now.replace(second=0, microsecond=0)
    return slot.astimezone(zoneinfo.ZoneInfo("UTC")).isoformat(timespec="minutes")


def last_firing(schedule: Schedule, now: datetime) -> datetime | None:
    """The crontab's last firing at or before `now`, in its zone; None if it never fires
    (a 31 February). Day of month and day of week must both match, as in Celery's crontab."""
    spec: Any = schedule.crontab()  # its fields are sets of ints, untyped in Celery
    zone = zoneinfo.ZoneInfo(schedule.timezone)
    local = now.astimezone(zone)
    hours = sorted(spec.hour, reverse=True)
    minutes = sorted(spec.minute, reverse=True)
    for back in range(CRON_LOOKBACK_DAYS):
        day: date = local.date() - timedelta(days=back)
        if not (
            day.month in spec.month_of_year
            and day.day in spec.day_of_month
            and day.isoweekday() % 7 in spec.day_of_week
        ):
            continue
        for hour in hours:
            if back == 0 and hour > local.hour:
                continue
            for minute in minutes:
                if back == 0 and hour == local.hour and minute > local.minute:
                    continue
                return datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)
    return None


def targets(message: PeriodicMessage) -> list[tuple[int, int, str]]:
    """(group id, chat id, skip reason or "") for every target, in a few queries."""
    groups = Group.objects.filter(bot_id=message.bot_id)
    if message.all_groups:
        groups = groups.filter(enabled=True)
    else:
        groups = groups.filter(pk__in=message.groups.values("pk"))
    rows = list(groups.order_by("pk").values_list("pk", "chat_id", "enabled"))
    bot = message.bot
    everywhere = ""
    if not bot.is_active:
        everywhere = SKIP_BOT_INACTIVE
    elif FEATURE not in (bot.features or []):
        everywhere = SKIP_FEATURE_OFF
    unreachable = set(
        UnreachableChat.objects.filter(bot_id=message.bot_id).values_list("chat_id", flat=True)
    )
    found = []
    for pk, chat_id, enabled in rows:
        skip = everywhere
        if not skip and not enabled:
            skip = SKIP_DISABLED
        elif not skip and chat_id in unreachable:
            skip = SKIP_UNREACHABLE
        found.append((pk, chat_id, skip))
    return found


def do_start_run(message_id: int, task_id: str, now: datetime | None = None) -> int | None:
    """The run the job `task_id` of this message belongs to, written with its send rows the
    first time. Returns the run's id, or None when there is nothing to send (the message is
    gone, or disabled since beat sent the job). Safe to run twice: the message's row is locked
    while its run is looked up or written, and runs and rows are unique."""
    now = now or timezone.now()
    with transaction.atomic():
        message = (
            PeriodicMessage.objects.select_for_update(of=("self",))
            .select_related("bot")
            .filter(pk=message_id)
            .first()
        )
        if message is None:
            return None
        run = message.runs.filter(task_id=task_id).first() if task_id else None
        if run is not None:
            return run.pk
        if not message.enabled:
            logger.info("periodic message %s: disabled, job %s sends nothing", message_id, task_id)
            return None
        key = run_key(Schedule.of(message), now)
        run, created = PeriodicRun.objects.get_or_create(
            message=message, run_key=key, defaults={"task_id": task_id}
        )
        if created:
            PeriodicSend.objects.bulk_create(
                [
                    PeriodicSend(
                        run=run, group_id=group, chat_id=chat, reason=skip,
                        status=PeriodicSend.Status.SKIPPED if skip else PeriodicSend.Status.PENDING,
                        finished_at=now if skip else None,
                    )
                    for group, chat, skip in targets(message)
                ],
                ignore_conflicts=True,
            )  # fmt: skip
            logger.info("periodic message %s: run %s (%s) planned", message_id, run.pk, key)
        else:
            logger.info("periodic message %s: run %s already planned; job %s joins it",
                        message_id, key, task_id)  # fmt: skip
    return run.pk


def purge_old_runs(days: int | None = None) -> int:
    """Delete runs (and their sends) started more than `days` ago (PERIODIC_KEEP_DAYS), a chunk
    of runs per statement so no delete holds many locks for long. Returns the runs deleted."""
    cutoff = timezone.now() - timedelta(days=days or settings.PERIODIC_KEEP_DAYS)
    deleted = 0
    while True:
        chunk = list(
            PeriodicRun.objects.filter(started_at__lt=cutoff).values_list("pk", flat=True)[
                :PURGE_CHUNK
            ]
        )
        if not chunk:
            return deleted
        PeriodicRun.objects.filter(pk__in=chunk).delete()
        deleted += len(chunk)
