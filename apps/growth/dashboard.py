"""Growth on the staff dashboard (SPEC M5, M7): member counts over time, and the join-request
queue now.

Member counts: for each day of the last 30, each group's highest count that day, summed over
the groups (one aggregate query, whatever the number of groups: the history's index on `at`).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import connection
from django.db.models import Count
from django.utils import timezone

from apps.chats.models import Group
from apps.growth.models import JoinRequest, MemberCount
from apps.ops.dashboard import Chart, Panel, Scope, register

DAYS = 30


def member_counts(scope: Scope) -> Chart:
    counts = MemberCount._meta.db_table
    groups = Group._meta.db_table
    params: list[Any] = [timezone.now() - timedelta(days=DAYS)]
    only_bot = ""
    if scope.bot_id is not None:
        only_bot = "AND g.bot_id = %s"
        params.append(scope.bot_id)
    # The day's highest count of each group, summed per day: one statement.
    sql = (
        "SELECT day, SUM(top) FROM ("  # noqa: S608 - table names from the models, values bound
        "SELECT date_trunc('day', c.at) AS day, c.group_id, MAX(c.count) AS top "
        f"FROM {counts} c JOIN {groups} g ON g.id = c.group_id "
        f"WHERE c.at >= %s {only_bot} GROUP BY 1, 2"
        ") per_group GROUP BY day ORDER BY day"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return Chart(
        "line",
        labels=[f"{day:%m-%d}" for day, _ in rows],
        series={"members": [int(total) for _, total in rows]},
    )


def join_queue(scope: Scope) -> Chart:
    rows = JoinRequest.objects.all()
    if scope.bot_id is not None:
        rows = rows.filter(group__bot_id=scope.bot_id)
    by_status = dict(rows.values_list("status").annotate(n=Count("pk")).order_by())
    labels = list(JoinRequest.Status.values)
    return Chart("bar", labels=labels, series={"requests": [by_status.get(s, 0) for s in labels]})


def register_panels() -> None:
    register(
        Panel(
            "member-counts",
            "Member counts over time",
            member_counts,
            order=40,
            note="each group's highest getChatMemberCount of the day, summed over the groups",
        )
    )
    register(
        Panel(
            "join-requests",
            "Join requests (growth)",
            join_queue,
            order=42,
            note="held/messaged: waiting; approving/declining: leaving at each group's pace",
        )
    )
