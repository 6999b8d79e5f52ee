"""The growth feature's observer of member activity (SPEC M3): one HSET per update, no query.

It records what it sees in any group chat; the flush keeps only the groups GMBot manages (a
Group row, enabled), so the hot path never asks the database whether a chat is managed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from telebot.types import Update

from apps.members.services.buffer import record, sample_field, sample_value

if TYPE_CHECKING:
    from apps.bots.context import BotContext

GROUP_TYPES = frozenset({"group", "supergroup"})
PRESENT = frozenset({"member", "administrator", "creator", "restricted"})
GONE = frozenset({"left", "kicked"})


def record_activity(update: Update, bot: BotContext) -> None:
    """Buffer who wrote, joined or left a group in this update (apps.bots.features.Observer)."""
    samples: dict[str, str] = {}
    message = update.message
    if message is not None and message.chat.type in GROUP_TYPES:
        chat_id = message.chat.id
        for user in message.new_chat_members or []:
            if user.id == bot.telegram_id:
                continue  # the bot's own arrival: not a member the kicker or anyone weighs
            field = sample_field(bot.id, chat_id, user.id, "j")
            samples[field] = sample_value(message.date, update.update_id, user.is_bot)
        left = message.left_chat_member
        if left is not None:
            samples[sample_field(bot.id, chat_id, left.id, "l")] = sample_value(
                message.date, update.update_id, left.is_bot
            )
        sender = message.from_user
        # Service messages (joins, leaves, pins) are not the member writing; an anonymous
        # admin or a channel writing (sender_chat) is no member of its own.
        if sender is not None and message.sender_chat is None and _written(message.content_type):
            field = sample_field(bot.id, chat_id, sender.id, f"m{message.message_id}")
            samples[field] = sample_value(message.date, update.update_id, sender.is_bot)
    change = update.chat_member
    if (
        change is not None
        and change.chat.type in GROUP_TYPES
        and change.new_chat_member.user.id != bot.telegram_id
    ):
        user = change.new_chat_member.user
        old, new = change.old_chat_member.status, change.new_chat_member.status
        if new in PRESENT and old in GONE:
            samples[sample_field(bot.id, change.chat.id, user.id, "j")] = sample_value(
                change.date, update.update_id, user.is_bot
            )
        elif new in GONE and old in PRESENT:
            samples[sample_field(bot.id, change.chat.id, user.id, "l")] = sample_value(
                change.date, update.update_id, user.is_bot
            )
    record(samples)


SERVICE_CONTENT = frozenset(
    {
        "new_chat_members", "left_chat_member", "new_chat_title", "new_chat_photo",
        "delete_chat_photo", "group_chat_created", "supergroup_chat_created",
        "migrate_to_chat_id", "migrate_from_chat_id", "pinned_message",
    }
)  # fmt: skip


def _written(content_type: str) -> bool:
    return content_type not in SERVICE_CONTENT
