"""Broadcasts on the staff dashboard (SPEC M7, "sends"): the deliveries of the last 14 days, by
the day they finished and what became of them, for every bot or one."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from apps.broadcasts.models import Broadcast, Delivery
from tests.factories import BotFactory, GroupFactory

pytestmark = pytest.mark.django_db


def delivered(bot: Any, statuses: list[str], days_ago: int) -> None:
    broadcast = Broadcast.objects.create(bot=bot, text="We are live", status="done")
    at = timezone.now() - timedelta(days=days_ago)
    for status in statuses:
        group = GroupFactory(bot=bot)
        Delivery.objects.create(broadcast=broadcast, group=group, chat_id=group.chat_id,
                                status=status, finished_at=at)  # fmt: skip


def sends(answer: Any) -> dict[str, list[int]]:
    [panel] = [s for s in answer.context["dashboard"]["panels"]
               if s.panel.name == "broadcast-sends"]  # fmt: skip
    assert not panel.failed
    [chart] = panel.charts
    return {s["label"]: s["data"] for s in chart["spec"]["series"]}


def test_sends_per_day_count_each_delivery_on_the_day_it_finished(admin_client):
    # given two bots' broadcasts: today, two days ago, and one older than the window
    cats, dogs = BotFactory(username="cats_bot"), BotFactory(username="dogs_bot")
    delivered(cats, ["sent", "sent", "failed", "skipped"], days_ago=0)
    delivered(cats, ["sent", "unknown"], days_ago=2)
    delivered(cats, ["sent"], days_ago=20)
    delivered(dogs, ["sent", "sent", "sent"], days_ago=0)
    # a delivery still pending never counts
    pending = Broadcast.objects.create(bot=cats, text="later")
    group = GroupFactory(bot=cats)
    Delivery.objects.create(broadcast=pending, group=group, chat_id=group.chat_id)

    # when staff open the dashboard, for every bot and then for one
    everyone = sends(admin_client.get("/admin/"))
    mine = sends(admin_client.get(f"/admin/?bot={cats.pk}"))

    # then each day holds what finished that day (the last column is today)
    assert len(everyone["sent"]) == 14
    assert everyone["sent"][-1] == 5 and everyone["sent"][-3] == 1
    assert everyone["failed"][-1] == 1 and everyone["skipped"][-1] == 1
    assert everyone["unknown (maybe sent)"][-3] == 1
    assert sum(everyone["sent"]) == 6  # the 20-day-old one is outside the window
    assert mine["sent"][-1] == 2 and sum(mine["sent"]) == 3
