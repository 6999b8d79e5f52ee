"""The kicker on the staff dashboard (SPEC M4, M7): members removed, and listed by dry runs, per
day over the last two weeks. One aggregate query over the runs, whatever the number of groups."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Count, Sum
from django.db.models.functions import TruncDay
from django.utils import timezone

from apps.members.models import KickRun
from apps.ops.dashboard import Chart, Panel, Scope, register

DAYS = 14


def kicks(scope: Scope) -> Chart:
    runs = KickRun.objects.filter(started_at__gte=timezone.now() - timedelta(days=DAYS))
    if scope.bot_id is not None:
        runs = runs.filter(group__bot_id=scope.bot_id)
    rows = (
        runs.annotate(day=TruncDay("started_at"))
        .values("day", "dry_run")
        .annotate(removed=Sum("removed"), candidates=Sum("candidates"), runs=Count("pk"))
        .order_by("day")
    )
    days = sorted({row["day"] for row in rows})
    removed = {row["day"]: row["removed"] for row in rows if not row["dry_run"]}
    listed = {row["day"]: row["candidates"] for row in rows if row["dry_run"]}
    return Chart(
        "bar",
        labels=[f"{day:%m-%d}" for day in days],
        series={
            "removed": [int(removed.get(day) or 0) for day in days],
            "candidates in dry runs": [int(listed.get(day) or 0) for day in days],
        },
    )


def register_panels() -> None:
    register(
        Panel(
            "kicker",
            "Inactive members removed (kicker)",
            kicks,
            order=44,
            note="per day; a dry run removes nobody and counts its candidates",
        )
    )
