"""Handlers every bot has, whatever the features: keeping stored chat ids true."""

from __future__ import annotations

from telebot import TeleBot
from telebot.types import Message

from apps.chats.services import migrate_chat
from apps.ingress.dispatch import current_bot


def on_migrated(message: Message) -> None:
    """A group became a supergroup: every row that stored the old id follows it (SPEC T3)."""
    if message.migrate_to_chat_id:
        migrate_chat(current_bot().telegram_id, message.chat.id, message.migrate_to_chat_id)


def register(bot: TeleBot) -> None:
    bot.register_message_handler(on_migrated, content_types=["migrate_to_chat_id"])
