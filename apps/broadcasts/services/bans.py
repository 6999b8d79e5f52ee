"""The BAN button (SPEC B7): a group admin presses it, that live entry is never promoted in
that group again and the message is removed; anyone else gets an alert."""

from __future__ import annotations

import logging

from django.utils import timezone
from telebot.types import CallbackQuery

from apps.bots.context import BotContext
from apps.broadcasts import keyboards, texts
from apps.broadcasts.models import Delivery, LiveBan
from apps.chats.models import Group
from apps.live.models import LiveEntry
from apps.telegram.errors import TelegramError

logger = logging.getLogger(__name__)

ADMIN_STATUSES = frozenset({"creator", "administrator"})


def check_presser_is_admin(bot: BotContext, chat_id: int, user_id: int) -> bool:
    """A fresh getChatMember: the button may sit in the group for days, rights change."""
    member = bot.telebot.get_chat_member(chat_id, user_id)
    return member.status in ADMIN_STATUSES


def do_ban_pressed(bot: BotContext, query: CallbackQuery) -> None:
    """Ban the button's live entry in the group and delete the message, or alert a non-admin.
    Safe to run twice: the ban is unique per (group, live) and a second delete is answered as
    already deleted."""
    live_id = keyboards.ban_target(query.data)
    message = query.message
    if live_id is None or message is None:
        return
    chat_id, user_id = message.chat.id, query.from_user.id
    if not check_presser_is_admin(bot, chat_id, user_id):
        bot.telebot.answer_callback_query(query.id, texts.BAN_ADMINS_ONLY, show_alert=True)
        return
    group = Group.objects.filter(bot_id=bot.id, chat_id=chat_id).first()
    live = LiveEntry.objects.filter(pk=live_id).first()
    if group is not None and live is not None:
        LiveBan.objects.get_or_create(group=group, live=live, defaults={"banned_by": user_id})
        logger.info("live %s banned in group %s by %s", live_id, group.pk, user_id)
    bot.telebot.delete_message(chat_id, message.message_id)
    if group is not None:
        Delivery.objects.filter(group=group, message_id=message.message_id, deletion="").update(
            deletion=Delivery.Deletion.DELETED,
            deletion_description=f"BAN pressed by admin {user_id}",
            deleted_at=timezone.now(),
        )
    answer = texts.BANNED.format(live=live) if live is not None else texts.BAN_GONE
    try:
        bot.telebot.answer_callback_query(query.id, answer)
    except TelegramError:
        # The ban and the deletion are what counts; a late answer only loses the toast.
        logger.info("ban in %s: the callback query could not be answered", chat_id)
