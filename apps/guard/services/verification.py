"""The "I've joined" button under a warning (SPEC G7)."""

from __future__ import annotations

import logging

from telebot.types import CallbackQuery, ChatPermissions

from apps.bots.context import BotContext
from apps.guard import cache, keyboards, texts
from apps.guard.models import MemberState
from apps.guard.services.enforcement import enforcing, record_member
from apps.guard.services.protection import channel_names, check_missing_channels, protection_for
from apps.telegram.client import answer_callback
from gmbot import fanout

logger = logging.getLogger(__name__)


def do_verify(bot: BotContext, query: CallbackQuery) -> None:
    """The "I've joined" button: only the warned user may press it; a fresh check (no negative
    cache); subscribed → unmuted and the warnings deleted, otherwise an alert naming what is
    missing. Locks nothing."""
    target = keyboards.verify_target(query.data)
    presser = query.from_user.id
    message = query.message
    if target is None or message is None:
        return
    if presser != target:
        answer_callback(bot.telebot, query.id, texts.VERIFY_NOT_YOURS, alert=True)
        return
    chat_id = message.chat.id
    protection = protection_for(bot, chat_id)
    if protection is None:
        # Protection was switched off after the warning: nothing to check, lift our mute.
        unmute(bot, chat_id, presser)
        _delete_warnings(bot, chat_id, presser, message.message_id)
        answer_callback(bot.telebot, query.id, texts.VERIFY_NOT_PROTECTED, alert=True)
        return
    if not protection.active:
        answer_callback(bot.telebot, query.id, texts.VERIFY_PAUSED, alert=True)
        return
    with enforcing(bot, protection):
        # The group's default permissions, which the unmute gives back, are asked while the
        # channels are checked (gmbot/fanout.py): the unmute waits for one answer, not two (at
        # 50 ms a call that is 50 ms of a press's wait). A press that finds a channel missing
        # asked for them in vain; a failure to get them matters only to the unmute.
        missing, defaults = fanout.both(
            lambda: check_missing_channels(bot, protection.channels, presser, trust_negative=False),
            lambda: fanout.outcome(lambda: default_permissions(bot, chat_id)),
        )
        if missing:
            answer_callback(
                bot.telebot,
                query.id,
                texts.VERIFY_MISSING.format(channels=channel_names(missing)),
                alert=True,
            )
            return
        if isinstance(defaults, Exception):
            raise defaults
        unmute(bot, chat_id, presser, defaults)
        # The presser's button spins until the answer: it comes before the clean-up.
        answer_callback(bot.telebot, query.id, texts.VERIFY_DONE, alert=True)
        record_member(protection.group, presser, MemberState.Status.VERIFIED)
        cache.release_warning(bot.telegram_id, chat_id, presser)
        _delete_warnings(bot, chat_id, presser, message.message_id)


def unmute(
    bot: BotContext, chat_id: int, user_id: int, defaults: ChatPermissions | None = None
) -> None:
    """Give the member the group's default permissions back (no until_date: for good);
    `defaults`: those permissions when already asked."""
    if defaults is None:
        defaults = default_permissions(bot, chat_id)
    bot.telebot.restrict_chat_member(
        chat_id, user_id, permissions=defaults, use_independent_chat_permissions=True
    )


def default_permissions(bot: BotContext, chat_id: int) -> ChatPermissions:
    """What the group lets its members do (getChat), to restore a muted member to."""
    return bot.telebot.get_chat(chat_id).permissions or ChatPermissions(can_send_messages=True)


def _delete_warnings(bot: BotContext, chat_id: int, user_id: int, pressed: int) -> None:
    for message_id in {pressed} | cache.pop_warning_messages(bot.telegram_id, chat_id, user_id):
        bot.telebot.delete_message(chat_id, message_id)  # already deleted counts as done
