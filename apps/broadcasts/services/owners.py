"""Telling a group's owner that broadcasts stopped going to the group (SPEC B4)."""

from __future__ import annotations

from apps.bots.context import context_for
from apps.broadcasts import texts
from apps.broadcasts.models import GroupBroadcasting
from gmbot import claims


def do_tell_owner_deactivated(group_id: int) -> bool:
    """A private message to the group's owner (else the bot's). True when sent. Safe to run
    twice: a Redis claim per deactivation lets one message out."""
    state = (
        GroupBroadcasting.objects.filter(group_id=group_id, deactivated_at__isnull=False)
        .select_related("group__owner", "group__bot__owner")
        .first()
    )
    if state is None or state.deactivated_at is None:
        return False
    group = state.group
    owner = group.owner or group.bot.owner
    bot = context_for(group.bot_id)
    if owner is None or bot is None:
        return False
    key = f"gmbot:broadcast:told:{group_id}:{int(state.deactivated_at.timestamp())}"
    if not claims.claim(key, 7 * 86400, fail_open=True, note="owner notice: no Redis claim"):
        return False
    text = texts.GROUP_DEACTIVATED.format(
        group=group.title or group.chat_id,
        failures=state.consecutive_failures,
        reason=state.deactivation_reason or "unknown",
    )
    bot.telebot.send_message(owner.telegram_id, text)
    return True
