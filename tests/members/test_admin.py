"""Kick runs in the admin and on the dashboard (SPEC M4): the run's record with the names of who
was listed, the group's page with its exemptions and runs, the removed-per-day chart."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.bots.models import TelegramUser
from apps.growth.models import GrowthProfile
from apps.members import dashboard
from apps.members.models import KickExemption, KickRun
from apps.ops.dashboard import Scope
from tests.factories import GroupFactory

pytestmark = pytest.mark.django_db


def a_run(group, *, dry_run: bool, removed: int, listed: list[int]) -> KickRun:
    now = timezone.now()
    return KickRun.objects.create(
        group=group, slot=now.replace(minute=0, second=0, microsecond=0), kick_after_days=30,
        dry_run=dry_run, cutoff=now - timedelta(days=30), status=KickRun.Status.DONE,
        candidates=len(listed) + 1, removed=removed, listed=listed, skipped={"admin": 1},
        duration_seconds=1.5,
    )  # fmt: skip


def test_a_run_shows_who_was_listed_by_name_and_the_group_page_its_runs_and_exemptions(
    admin_client,
):
    # given a dry run that listed Sam, and an exemption
    group = GroupFactory()
    GrowthProfile.objects.create(group=group, kick_after_days=30)
    TelegramUser.objects.create(telegram_id=42, first_name="Sam", last_name="Silent")
    run = a_run(group, dry_run=True, removed=0, listed=[42])
    KickExemption.objects.create(group=group, user_id=77, note="the moderator's friend")

    # when staff open the run, and the group
    page = admin_client.get(reverse("admin:members_kickrun_change", args=[run.pk]))
    group_page = admin_client.get(reverse("admin:chats_group_change", args=[group.pk]))

    # then the run names Sam and says why the other was skipped; the group lists both
    assert page.status_code == 200
    assert "Sam Silent" in page.content.decode() and "admin" in page.content.decode()
    shown = group_page.content.decode()
    assert "the moderator&#x27;s friend" in shown or "the moderator's friend" in shown
    assert "kick runs (spec m4)" in shown.lower()


def test_a_group_growth_does_not_manage_shows_no_kicker(admin_client):
    # given a group without a growth profile
    group = GroupFactory()
    # when staff open it
    page = admin_client.get(reverse("admin:chats_group_change", args=[group.pk]))
    # then no exemptions or runs
    assert "kick runs (spec m4)" not in page.content.decode().lower()


def test_the_dashboard_counts_removed_members_and_dry_run_candidates_per_day():
    # given a real run that removed 3 and a dry run with 2 candidates, today
    group = GroupFactory()
    a_run(group, dry_run=False, removed=3, listed=[1, 2, 3])
    KickRun.objects.create(**{**_fields(group), "dry_run": True, "candidates": 2,
                              "slot": timezone.now() - timedelta(hours=1)})  # fmt: skip

    # when the panel is drawn for the group's bot
    chart = dashboard.kicks(Scope(bot=group.bot, bots=[group.bot]))

    # then today's bar holds both
    assert chart.series == {"removed": [3], "candidates in dry runs": [2]}


def _fields(group) -> dict:
    now = timezone.now()
    return {"group": group, "kick_after_days": 30, "cutoff": now - timedelta(days=30),
            "status": KickRun.Status.DONE}  # fmt: skip
