"""Guard commands (SPEC G2-G4), registered on every bot."""

from __future__ import annotations

from telebot import TeleBot
from telebot.types import Message

from apps.guard import texts


def start_or_help(message: Message, bot: TeleBot) -> None:
    """/start and /help in a private chat: a welcome and the three setup steps (SPEC G2)."""
    bot.send_message(message.chat.id, texts.HELP)


def register(bot: TeleBot) -> None:
    bot.register_message_handler(
        start_or_help, commands=["start", "help"], chat_types=["private"], pass_bot=True
    )
