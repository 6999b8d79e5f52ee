"""Periodic messages on the staff dashboard (sends of the last 24 h, the messages with their
last run) and the daily purge of old runs."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.chats.models import Group
from apps.periodic.models import PeriodicMessage, PeriodicRun, PeriodicSend
from apps.periodic.services import runs
from tests.factories import BotFactory

pytestmark = pytest.mark.django_db

CHAT_IDS = itertools.count(1_000_000)


def message_with_sends(bot, name: str, statuses: list[str], started_ago: timedelta) -> PeriodicRun:
    message = PeriodicMessage.objects.create(bot=bot, name=name, text="Hi", all_groups=True,
                                             every=1, period="hours")  # fmt: skip
    run = PeriodicRun.objects.create(message=message, run_key=f"{name}-1")
    PeriodicRun.objects.filter(pk=run.pk).update(started_at=timezone.now() - started_ago)
    for n, status in enumerate(statuses):
        group = Group.objects.create(bot=bot, chat_id=-next(CHAT_IDS), title=f"G{n}")
        PeriodicSend.objects.create(run=run, group=group, chat_id=group.chat_id, status=status)
    return run


def panel(answer) -> tuple[dict, list]:
    shown = next(s for s in answer.context["dashboard"]["panels"] if s.panel.name == "periodic")
    spec = shown.charts[0]["spec"]
    return {s["label"]: s["data"] for s in spec["series"]}, shown.tables[0].rows


def test_the_dashboard_counts_the_last_days_sends_by_outcome_per_bot(admin_client):
    cats, dogs = BotFactory(username="cats_bot"), BotFactory(username="dogs_bot")
    message_with_sends(cats, "Rules", ["sent", "sent", "failed"], timedelta(hours=1))
    message_with_sends(cats, "Old", ["sent"], timedelta(days=2))  # outside the 24 h
    message_with_sends(dogs, "Woof", ["skipped", "unknown"], timedelta(hours=3))

    series, rows = panel(admin_client.get("/admin/"))
    assert series == {"sends": [2, 1, 1, 1]}  # sent, skipped, failed, unknown
    assert {row[0] for row in rows} == {"Rules", "Old", "Woof"}
    assert [row[2] for row in rows if row[0] == "Rules"] == ["every 1 hours"]

    series, rows = panel(admin_client.get(f"/admin/?bot={cats.pk}"))
    assert series == {"sends": [2, 0, 1, 0]}
    assert {row[0] for row in rows} == {"Rules", "Old"}


def test_the_panel_asks_as_many_queries_for_many_messages_as_for_one(admin_client):
    bot = BotFactory()
    message_with_sends(bot, "First", ["sent"], timedelta(hours=1))
    admin_client.get("/admin/")

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert admin_client.get("/admin/").status_code == 200
        return len(captured)

    with_one = queries()
    for n in range(8):
        message_with_sends(bot, f"More {n}", ["sent", "failed"], timedelta(hours=2))
    assert queries() == with_one


def test_runs_older_than_the_kept_days_are_purged_with_their_sends(settings):
    settings.PERIODIC_KEEP_DAYS = 30
    bot = BotFactory()
    old = message_with_sends(bot, "Old", ["sent", "sent"], timedelta(days=31))
    recent = message_with_sends(bot, "Recent", ["sent"], timedelta(days=29))

    assert runs.purge_old_runs() == 1
    assert runs.purge_old_runs() == 0

    assert not PeriodicRun.objects.filter(pk=old.pk).exists()
    assert not PeriodicSend.objects.filter(run_id=old.pk).exists()
    assert PeriodicSend.objects.filter(run=recent).count() == 1
    # the definitions themselves stay
    assert PeriodicMessage.objects.count() == 2
