"""Periodic messages on the staff dashboard: what their sends came to over the last 24 hours,
and the messages with their schedule and last run. Two aggregate queries whatever the number of
messages, runs or groups."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Count, F, Max
from django.utils import timezone

from apps.ops.dashboard import Chart, Panel, Scope, Table, register
from apps.periodic.models import PeriodicMessage, PeriodicSend
from apps.periodic.services.schedule import Schedule

STATUSES = [PeriodicSend.Status.SENT, PeriodicSend.Status.SKIPPED, PeriodicSend.Status.FAILED,
            PeriodicSend.Status.UNKNOWN]  # fmt: skip
LISTED = 10


def periodic(scope: Scope) -> list[Chart | Table]:
    since = timezone.now() - timedelta(hours=24)
    sends = PeriodicSend.objects.filter(run__started_at__gte=since)
    messages = PeriodicMessage.objects.select_related("bot")
    if scope.bot_id is not None:
        sends = sends.filter(run__message__bot_id=scope.bot_id)
        messages = messages.filter(bot_id=scope.bot_id)
    counts = dict(sends.values_list("status").annotate(n=Count("pk")).order_by())
    latest = F("last").desc(nulls_last=True)
    listed = messages.annotate(last=Max("runs__started_at")).order_by("-enabled", latest)[:LISTED]
    rows = [
        [m.name, f"@{m.bot.username}", Schedule.of(m).describe(), "on" if m.enabled else "off",
         timezone.localtime(m.last).strftime("%d %b %H:%M") if m.last else "never"]
        for m in listed
    ]  # fmt: skip
    return [
        Chart("bar", labels=[str(s) for s in STATUSES],
              series={"sends": [counts.get(s, 0) for s in STATUSES]}),
        Table(columns=["message", "bot", "schedule", "enabled", "last run"], rows=rows,
              empty="no periodic messages defined"),
    ]  # fmt: skip


def register_panels() -> None:
    register(
        Panel(
            "periodic",
            "Periodic messages",
            periodic,
            order=60,
            note="sends of the last 24 h by outcome; the latest runs' messages",
        )
    )
