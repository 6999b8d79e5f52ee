"""Broadcasts on the staff dashboard (SPEC M7 "sends"): what broadcast deliveries became, day by
day over the last two weeks — sent, failed, skipped, unknown.

One aggregate query over the deliveries finished in the window (indexed on `finished_at`),
whatever the number of broadcasts or groups.
"""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Count
from django.db.models.functions import TruncDay
from django.utils import timezone

from apps.broadcasts.models import Delivery
from apps.ops.dashboard import Chart, Panel, Scope, register

DAYS = 14
SHOWN = (Delivery.Status.SENT, Delivery.Status.FAILED, Delivery.Status.SKIPPED,
         Delivery.Status.UNKNOWN)  # fmt: skip


def sends_per_day(scope: Scope) -> Chart:
    today = timezone.now().date()
    first = today - timedelta(days=DAYS - 1)
    deliveries = Delivery.objects.filter(
        finished_at__gte=timezone.now() - timedelta(days=DAYS), status__in=SHOWN
    )
    if scope.bot_id is not None:
        deliveries = deliveries.filter(broadcast__bot_id=scope.bot_id)
    counts = {
        (row["day"].date(), row["status"]): row["n"]
        for row in deliveries.annotate(day=TruncDay("finished_at"))
        .values("day", "status")
        .annotate(n=Count("pk"))
        .order_by()
    }
    days = [first + timedelta(days=n) for n in range(DAYS)]
    return Chart(
        "bar",
        labels=[f"{day:%m-%d}" for day in days],
        series={
            status.label: [counts.get((day, status.value), 0) for day in days] for status in SHOWN
        },
        stacked=True,
    )


def register_panels() -> None:
    register(
        Panel(
            "broadcast-sends",
            "Broadcast sends per day",
            sends_per_day,
            order=45,
            note="each delivery by the day it finished (UTC), last 14 days",
        )
    )
