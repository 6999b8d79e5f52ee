"""Member counts (SPEC M5): every active group's getChatMemberCount, refreshed on a schedule and
kept as history for the phase rules and the dashboard.

Beat starts a round every GROWTH_COUNT_MINUTES; the round queues one job per group, each with
its own countdown inside the interval (the group's id spread over it, the same every round), so
the calls are spread over the interval, not a burst at its start. The jobs run on `low`: inside
the bulk budget, never in the way of interactive work.
"""

from __future__ import annotations

import logging
import zlib

from django.db.models import QuerySet

from apps.bots.context import context_for
from apps.chats.models import Group
from apps.growth.models import GrowthProfile, MemberCount
from apps.growth.services import phases
from celeryconfig import GROWTH_COUNT_MINUTES

logger = logging.getLogger(__name__)


def counted_groups() -> QuerySet[Group]:
    """Enabled groups of active bots that run growth."""
    return Group.objects.filter(
        enabled=True, bot__is_active=True, bot__features__contains=["growth"]
    ).order_by("pk")


def offset_of(group_id: int, interval: float) -> float:
    """The group's place in the interval, in seconds: stable from round to round."""
    return (zlib.crc32(str(group_id).encode()) % 10_000) / 10_000 * interval


def do_plan_round() -> int:
    """Queue one count job per counted group, spread over the interval. Safe to run twice: a
    second round only writes one more history row per group."""
    from gmbot.celery import app

    interval = GROWTH_COUNT_MINUTES * 60.0
    planned = 0
    for group_id in counted_groups().values_list("pk", flat=True).iterator():
        app.send_task(
            "tasks.low.refresh_member_count",
            args=[group_id],
            countdown=offset_of(group_id, interval),
            expires=interval * 2,
        )
        planned += 1
    return planned


def do_refresh(group_id: int) -> MemberCount | None:
    """Ask Telegram for the group's member count, record it, then apply the group's phase rules
    (the target may have been reached). Locks nothing but what do_set_phase locks."""
    group = Group.objects.filter(pk=group_id, enabled=True).first()
    if group is None:
        return None
    bot = context_for(group.bot_id)
    if bot is None:
        return None
    count = bot.telebot.get_chat_member_count(group.chat_id)
    row = MemberCount.objects.create(group=group, count=count)
    profile = GrowthProfile.objects.filter(group=group).first()
    if profile is not None:
        phases.do_apply_rules(profile)
    return row
