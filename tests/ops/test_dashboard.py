"""The staff dashboard (SPEC M7): the admin's index shows every panel's data, per bot or for all,
in as many queries with a thousand groups as with ten."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.chats.models import Group
from apps.guard.models import GroupProtection, MemberState
from apps.ops import dashboard
from apps.ops.models import DeadLetter
from apps.telegram import usage
from tests.factories import BotFactory

pytestmark = pytest.mark.django_db


def groups(bot: Any, protected: int, paused: int = 0, start: int = 0) -> list[Group]:
    rows = Group.objects.bulk_create(
        [
            Group(bot=bot, chat_id=-1_001_500_000_000 - start - n, title=f"G{start + n}")
            for n in range(protected + paused)
        ]
    )
    now = timezone.now()
    GroupProtection.objects.bulk_create(
        [
            GroupProtection(group=g, paused_at=now if n >= protected else None)
            for n, g in enumerate(rows)
        ]
    )
    return rows


def charts(answer: Any) -> dict[str, list[dict[str, Any]]]:
    """Each panel's chart specs, as the page hands them to Chart.js."""
    return {shown.panel.name: [c["spec"] for c in shown.charts]
            for shown in answer.context["dashboard"]["panels"]}  # fmt: skip


def series(spec: dict[str, Any]) -> dict[str, list[float]]:
    return {s["label"]: s["data"] for s in spec["series"]}


def test_the_admin_index_is_the_dashboard_with_every_panels_data(admin_client, redis_client):
    # given two bots' groups (three protected, one paused), members, dead letters and calls
    cats, dogs = BotFactory(username="cats_bot"), BotFactory(username="dogs_bot")
    cat_groups = groups(cats, protected=2, paused=1)
    groups(dogs, protected=1, start=100)
    MemberState.objects.create(group=cat_groups[0], user_id=1, status="verified",
                               checked_at=timezone.now())  # fmt: skip
    MemberState.objects.create(group=cat_groups[0], user_id=2, status="restricted",
                               checked_at=timezone.now())  # fmt: skip
    DeadLetter.objects.create(
        task_name="tasks.low.ping", task_id="t1", queue="low", exception_class="BadRequest",
        attempts=1, first_failed_at=timezone.now(), last_failed_at=timezone.now(),
    )  # fmt: skip
    usage.flush()
    redis_client.flushdb()
    for result in ("ok", "ok", "bad_request"):
        usage.count(cats.telegram_id, "sendMessage", result)
    usage.count(dogs.telegram_id, "getMe", "ok")
    usage.flush()

    # when a staff member opens the admin
    answer = admin_client.get("/admin/")

    # then it is GMBot's, and its panels hold the numbers, Chart.js served from our static files
    assert answer.status_code == 200
    page = answer.content.decode()
    assert "<title>The platform at a glance | GMBot</title>" in page
    assert "/static/ops/chart.umd.min.js" in page and "cdn" not in page.lower()
    shown = charts(answer)
    assert series(shown["guard"][0]) == {"groups": [3, 1, 0]}
    assert series(shown["guard"][1]) == {"members": [1, 1]}
    assert series(shown["queues"][0])["dead letters"] == [0, 0, 1]
    calls = series(shown["api-calls"][0])
    assert sum(calls["calls"]) == 4 and sum(calls["errors"]) == 1
    assert 'id="chart-guard-0-data"' in page

    # and for one bot, only its own
    mine = charts(admin_client.get(f"/admin/?bot={cats.pk}"))
    assert series(mine["guard"][0]) == {"groups": [2, 1, 0]}
    assert sum(series(mine["api-calls"][0])["calls"]) == 3


def test_the_dashboard_asks_as_many_queries_for_a_thousand_groups_as_for_ten(admin_client):
    bot = BotFactory()
    groups(bot, protected=10)
    admin_client.get("/admin/")  # the session and the user are read, as on any page

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert admin_client.get("/admin/").status_code == 200
        return len(captured)

    with_ten = queries()
    groups(bot, protected=990, paused=10, start=10)
    assert queries() == with_ten


def test_a_panel_that_fails_says_so_and_the_others_are_drawn(admin_client, monkeypatch):
    monkeypatch.setattr(dashboard, "_panels", dict(dashboard._panels))

    def broken(scope: dashboard.Scope) -> dashboard.Chart:
        raise RuntimeError("the growth tables are not there yet")

    dashboard.register(dashboard.Panel("broken", "Broken", broken, order=1))

    answer = admin_client.get("/admin/")

    assert answer.status_code == 200
    [failed] = [s for s in answer.context["dashboard"]["panels"] if s.failed]
    assert failed.panel.name == "broken"
    assert "This panel could not be drawn" in answer.content.decode()
    assert charts(answer)["guard"]
