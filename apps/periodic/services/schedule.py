"""A periodic message's schedule: checking it, and keeping its django-celery-beat row in step.

`do_sync` runs inside `PeriodicMessage.save()`'s transaction, so the definition and its beat row
are written together or not at all; deletion removes the row in the deletion's transaction
(signals.py). The row names `tasks.normal.send_periodic_message` with the message's id, is
enabled exactly when the message is, and expires its jobs before the next run would come, so a
job stuck in a queue behind a backlog is dropped rather than sent late on top of the next one.
"""

from __future__ import annotations

import itertools
import json
import zoneinfo
from dataclasses import dataclass
from typing import Any

from celery.schedules import crontab
from django.core.exceptions import ValidationError
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from apps.periodic.models import PeriodicMessage

TASK = "tasks.normal.send_periodic_message"
# A job not started within this long after beat sent it is dropped (or sooner: the interval).
EXPIRES_MAX_SECONDS = 600
MINUTE = 60
PERIOD_SECONDS = {"minutes": MINUTE, "hours": 3600, "days": 86400}
CRON_FIELDS = ("minute", "hour", "day_of_month", "month_of_year", "day_of_week")


@dataclass(frozen=True)
class Schedule:
    """What a periodic message's schedule says, checked."""

    kind: str
    every: int | None = None
    period: str = ""
    cron: tuple[str, str, str, str, str] = ("0", "*", "*", "*", "*")
    timezone: str = "UTC"

    @classmethod
    def of(cls, message: PeriodicMessage) -> Schedule:
        return cls(
            kind=message.kind,
            every=message.every,
            period=message.period,
            cron=(message.minute, message.hour, message.day_of_month, message.month_of_year,
                  message.day_of_week),
            timezone=message.timezone,
        )  # fmt: skip

    def crontab(self) -> crontab:
        minute, hour, day_of_month, month_of_year, day_of_week = self.cron
        return crontab(minute=minute, hour=hour, day_of_month=day_of_month,
                       month_of_year=month_of_year, day_of_week=day_of_week)  # fmt: skip

    def interval_seconds(self) -> int:
        assert self.every is not None
        return self.every * PERIOD_SECONDS[self.period]

    def describe(self) -> str:
        if self.kind == PeriodicMessage.Kind.INTERVAL:
            return f"every {self.every} {self.period}"
        return f"cron {' '.join(self.cron)} ({self.timezone})"


def check_schedule(schedule: Schedule) -> None:
    """Raise ValidationError, keyed by field, for a schedule beat could not run."""
    if schedule.kind == PeriodicMessage.Kind.INTERVAL:
        errors = {}
        if not schedule.every or schedule.every < 1:
            errors["every"] = "An interval needs a number, 1 or more."
        if schedule.period not in PERIOD_SECONDS:
            errors["period"] = "An interval needs minutes, hours or days."
        if errors:
            raise ValidationError(errors)
        return
    if schedule.kind != PeriodicMessage.Kind.CRONTAB:
        raise ValidationError({"kind": "Choose an interval or a crontab."})
    for name, value in zip(CRON_FIELDS, schedule.cron, strict=True):
        try:
            crontab(**{name: value})
        except (ValueError, TypeError) as exc:
            raise ValidationError(
                {name: f"Not a crontab {name.replace('_', ' ')}: {exc}"}
            ) from None
    try:
        zoneinfo.ZoneInfo(schedule.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationError({"timezone": f"Unknown time zone {schedule.timezone!r}."}) from None


def expire_seconds(schedule: Schedule) -> int:
    """How long a job beat sent may wait: never past the next run."""
    if schedule.kind == PeriodicMessage.Kind.INTERVAL:
        gap = schedule.interval_seconds()
    else:
        gap = shortest_cron_gap(schedule)
    return max(1, min(EXPIRES_MAX_SECONDS, gap - 1))


def shortest_cron_gap(schedule: Schedule) -> int:
    """The shortest time between two runs of a crontab: its minutes' smallest gap when it runs
    in more than one minute of an hour, else its hours', else a day."""
    spec: Any = schedule.crontab()  # its fields are sets of ints, untyped in Celery
    for values, unit in ((spec.minute, MINUTE), (spec.hour, 3600)):
        ordered = sorted(values)
        if len(ordered) > 1:
            span = 60 if unit == MINUTE else 24
            gaps = [b - a for a, b in itertools.pairwise(ordered)]
            gaps.append(ordered[0] + span - ordered[-1])
            return min(gaps) * unit
    return 86400


def do_sync(message: PeriodicMessage) -> PeriodicTask:
    """Create or update the message's beat row to match it. Runs in the caller's transaction
    (PeriodicMessage.save); writes the row and, the first time, the message's link to it."""
    schedule = Schedule.of(message)
    task = message.task or PeriodicTask()
    task.name = f"periodic message #{message.pk}"
    task.task = TASK
    task.args = json.dumps([message.pk])
    task.kwargs = "{}"
    task.enabled = message.enabled
    task.description = f"{message.name}: {schedule.describe()} (apps/periodic; edit it there)"
    task.expire_seconds = expire_seconds(schedule)
    task.expires = None
    if schedule.kind == PeriodicMessage.Kind.INTERVAL:
        task.interval, _ = IntervalSchedule.objects.get_or_create(
            every=schedule.every, period=schedule.period
        )
        task.crontab = None
    else:
        minute, hour, day_of_month, month_of_year, day_of_week = schedule.cron
        task.crontab, _ = CrontabSchedule.objects.get_or_create(
            minute=minute, hour=hour, day_of_month=day_of_month, month_of_year=month_of_year,
            day_of_week=day_of_week, timezone=zoneinfo.ZoneInfo(schedule.timezone),
        )  # fmt: skip
        task.interval = None
    task.save()
    if message.task_id != task.pk:
        PeriodicMessage.objects.filter(pk=message.pk).update(task=task)
        message.task = task
    return task
