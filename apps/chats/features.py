"""The core feature: what every bot runs whatever else it runs — keeping stored chat ids true."""

from __future__ import annotations

from telebot.types import Message, Update, User

from apps.bots import people
from apps.bots.context import BotContext
from apps.bots.features import Feature, Handlers
from apps.chats.services import migrate_chat


def on_migrated(message: Message, bot: BotContext) -> None:
    """A group became a supergroup: every row that stored the old id follows it (SPEC T3)."""
    if message.migrate_to_chat_id:
        migrate_chat(bot.telegram_id, message.chat.id, message.migrate_to_chat_id)


def note_people(update: Update, bot: BotContext) -> None:
    """Keep the names of whoever an update shows (the sender, who joined, whose membership
    changed), for the admin; a write only when a name is new or changed."""
    users: list[User | None] = []
    for part in (update.message, update.edited_message, update.callback_query,
                 update.chat_member, update.chat_join_request):  # fmt: skip
        if part is not None:
            users.append(part.from_user)
    if update.message is not None:
        users += update.message.new_chat_members or []
    if update.chat_member is not None:
        users.append(update.chat_member.new_chat_member.user)
    people.note(users)


def register(handlers: Handlers) -> None:
    handlers.message(on_migrated, content_types=["migrate_to_chat_id"])


CORE = Feature(
    name="core",
    label="Core: follows chat migrations",
    handlers=register,
    observers=(note_people,),
    # The migration arrives as a message. Join requests are asked for on every bot, as the
    # webhook always has (SPEC W5 names them); growth (SPEC M2) will be the feature that acts.
    update_kinds=frozenset({"message", "chat_join_request"}),
    always_on=True,
)
