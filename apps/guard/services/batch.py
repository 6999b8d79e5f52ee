"""Batch verification (SPEC G11): recently active members re-checked off-peak, on `low`."""

from __future__ import annotations

import time
from datetime import timedelta

from django.db.models import Exists, OuterRef
from django.utils import timezone

from apps.bots.context import context_for
from apps.chats.models import GroupMember
from apps.guard import texts
from apps.guard.models import MemberState
from apps.guard.services.enforcement import do_restrict, enforcing, record_member
from apps.guard.services.protection import (
    Protection,
    check_missing_channels,
    in_chat,
    protection_for,
)

BATCH_ACTIVE_WITHIN = timedelta(days=1)
BATCH_RECHECK_AFTER = timedelta(hours=1)
BATCH_LIMIT = 200
# Stay well inside the task's soft time limit; the next run continues where this one stopped.
BATCH_SECONDS = 30.0


def do_verify_recent_members() -> dict[str, int]:
    """Re-check recently active verified members of active protected groups, oldest check
    first, straight from Telegram (not the cache), within the bulk budget; mute and warn those
    who left a channel without us hearing of it. Each member's check is recorded as it goes, so
    a run cut short by the budget (RateLimited → a retry) does not redo work. Locks nothing."""
    now = timezone.now()
    active = GroupMember.objects.filter(
        group=OuterRef("group"),
        user_id=OuterRef("user_id"),
        last_seen_at__gte=now - BATCH_ACTIVE_WITHIN,
    )
    rows = (
        MemberState.objects.filter(
            Exists(active),
            status=MemberState.Status.VERIFIED,
            checked_at__lt=now - BATCH_RECHECK_AFTER,
            group__enabled=True,
            group__protection__enabled=True,
            group__protection__paused_at__isnull=True,
        )
        .select_related("group")
        .order_by("checked_at")[:BATCH_LIMIT]
    )
    deadline = time.monotonic() + BATCH_SECONDS
    result = {"checked": 0, "muted": 0}
    protections: dict[int, Protection | None] = {}
    for row in rows:
        if time.monotonic() > deadline:
            break
        group = row.group
        bot = context_for(group.bot_id)
        if bot is None:
            continue  # an inactive bot acts nowhere
        if group.pk not in protections:
            protections[group.pk] = protection_for(bot, group.chat_id)
        protection = protections[group.pk]
        if protection is None or not protection.active:
            continue
        with enforcing(bot, protection):
            missing = check_missing_channels(bot, protection.channels, row.user_id, use_cache=False)
            if not missing:
                record_member(group, row.user_id, MemberState.Status.VERIFIED, seen=False)
            else:
                member = bot.telebot.get_chat_member(group.chat_id, row.user_id)
                if in_chat(member) and getattr(member, "can_send_messages", True):
                    do_restrict(bot, protection, member.user, missing,
                                template=texts.LEFT_CHANNEL_WARNING, seen=False)  # fmt: skip
                    result["muted"] += 1
                else:
                    record_member(group, row.user_id, MemberState.Status.RESTRICTED, seen=False)
            result["checked"] += 1
        if protection.state.paused_at is not None:
            protections[group.pk] = None  # paused mid-run (do_pause refreshed it): no more calls
    return result
