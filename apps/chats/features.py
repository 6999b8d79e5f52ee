"""The core feature: what every bot runs whatever else it runs — keeping stored chat ids true."""

from __future__ import annotations

from telebot.types import Message

from apps.bots.context import BotContext
from apps.bots.features import Feature, Handlers
from apps.chats.services import migrate_chat


def on_migrated(message: Message, bot: BotContext) -> None:
    """A group became a supergroup: every row that stored the old id follows it (SPEC T3)."""
    if message.migrate_to_chat_id:
        migrate_chat(bot.telegram_id, message.chat.id, message.migrate_to_chat_id)


def register(handlers: Handlers) -> None:
    handlers.message(on_migrated, content_types=["migrate_to_chat_id"])


CORE = Feature(
    name="core",
    label="Core: follows chat migrations",
    handlers=register,
    # The migration arrives as a message. Join requests are asked for on every bot, as the
    # webhook always has (SPEC W5 names them); growth (SPEC M2) will be the feature that acts.
    update_kinds=frozenset({"message", "chat_join_request"}),
    always_on=True,
)
