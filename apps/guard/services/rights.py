"""Lost rights (SPEC G10): the bot was demoted or removed, or Telegram refused for lack of a
right; protection is paused and the group's owner told how to fix it."""

from __future__ import annotations

import logging

from django.utils import timezone
from telebot.types import ChatMember, ChatMemberUpdated

from apps.bots.context import BotContext
from apps.chats.models import Channel, Group
from apps.guard import cache, texts
from apps.guard.models import GroupProtection
from apps.guard.services.protection import channel_names
from apps.telegram.errors import BadRequest, Unreachable
from gmbot.claims import claim_row

logger = logging.getLogger(__name__)

# Refusals that mean the bot lacks a right it needs: pause instead of failing again and again.
LOST_RIGHTS_REASONS = frozenset(
    {"not_enough_rights", "cant_delete", "member_list_inaccessible", "chat_not_found"}
)


def do_bot_status_changed(bot: BotContext, update: ChatMemberUpdated) -> None:
    """`my_chat_member`: the bot was demoted or removed in a group or a channel; every affected
    protected group is paused and its owner told. A promotion changes nothing by itself: the
    owner runs /reactivate, which checks everything again."""
    new = update.new_chat_member
    chat = update.chat
    protections = GroupProtection.objects.filter(group__bot_id=bot.id, enabled=True)
    if chat.type == "channel":
        if new.status == "administrator":
            return
        linked = protections.filter(
            group__channel_links__channel__chat_id=chat.id,
            group__channel_links__channel__bot_id=bot.id,
        ).distinct()
        name = f"@{chat.username}" if chat.username else (chat.title or str(chat.id))
        for state in linked:
            do_pause(bot, state, "channel_demoted", channel=name)
        return
    reason = _lost_right(new)
    if reason is None:
        return
    mine = protections.filter(group__chat_id=chat.id).first()
    if mine is not None:
        do_pause(bot, mine, reason)


def _lost_right(member: ChatMember) -> str | None:
    if member.status in ("left", "kicked"):
        return "removed"
    if member.status != "administrator":
        return "demoted"
    if not (getattr(member, "can_delete_messages", False)
            and getattr(member, "can_restrict_members", False)):  # fmt: skip
        return "missing_rights"
    return None


def do_pause(bot: BotContext, state: GroupProtection, reason: str, **details: str) -> bool:
    """Pause protection and tell the owner in a private chat, once: the pause is claimed with a
    conditional update of the protection's row, so only the first of concurrent reports writes
    to the owner. `state` is refreshed either way. Returns whether this call paused the group."""
    text = texts.PAUSE_REASONS[reason].format(**details)
    now = timezone.now()
    claimed = claim_row(
        GroupProtection.objects.filter(pk=state.pk, paused_at__isnull=True),
        paused_at=now,
        pause_reason=text[:255],
        updated_at=now,
    )
    group = Group.objects.select_related("owner").get(pk=state.pk)
    cache.forget_protection(group.bot_id, group.chat_id)
    state.refresh_from_db(fields=["paused_at", "pause_reason", "updated_at"])
    if not claimed:
        return False
    logger.warning(
        "guard: protection paused group=%s bot=%s: %s", group.chat_id, group.bot_id, text
    )
    if group.owner is None:
        return True
    channels = channel_names(list(Channel.objects.filter(group_links__group=group)))
    message = texts.OWNER_PAUSED.format(
        group=group.title or group.chat_id, reason=text, channels=channels
    )
    try:
        bot.telebot.send_message(group.owner.telegram_id, message)
    except (Unreachable, BadRequest) as exc:
        # The owner never started the bot (or blocked it): /status in the group still shows why.
        logger.info("guard: could not tell owner=%s of the pause: %s", group.owner.telegram_id, exc)
    return True
