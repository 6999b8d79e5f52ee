"""Services on the shared chat facts: following a migration, and which chats a bot can reach.

`bot_id` is the primary key of apps.bots.models.Bot wherever it appears here; Telegram's own id
of a bot is `bot_telegram_id`.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from apps.bots.models import Bot
from apps.chats.models import Channel, Group, GroupMember, UnreachableChat
from apps.telegram.client import Migration, Refusal
from gmbot.upsert import upsert

logger = logging.getLogger(__name__)


def migrate_chat(bot_telegram_id: int, old_chat_id: int, new_chat_id: int) -> int:
    """A group became a supergroup with a new id: point the bot's Group and Channel rows at it.

    Returns the number of rows updated. Idempotent: a second call finds nothing under the old id.
    If a row already holds the new id (the supergroup was recorded on its own first), the old row
    is left as it is and a warning logged, so no link or setting is lost silently.
    Locks: the rows it updates, in one transaction.
    """
    updated = 0
    with transaction.atomic():
        for model in (Group, Channel):
            rows = model.objects.filter(bot__telegram_id=bot_telegram_id)
            if rows.filter(chat_id=new_chat_id).exists():
                logger.warning(
                    "chat %s migrated to %s for bot %s, but a %s with the new id exists already",
                    old_chat_id, new_chat_id, bot_telegram_id, model.__name__,
                )  # fmt: skip
                continue
            updated += rows.filter(chat_id=old_chat_id).update(chat_id=new_chat_id)
    logger.info(
        "chat %s migrated to %s for bot %s: %d row(s) updated",
        old_chat_id, new_chat_id, bot_telegram_id, updated,
    )  # fmt: skip
    return updated


def note_member_seen(group_id: int, user_id: int, at: datetime) -> None:
    """A member was seen in the group at `at` (wrote, joined, pressed a button). One upsert on
    the unique (group, user) row, no lock held; callers throttle busy members."""
    upsert(
        GroupMember,
        [(group_id, user_id, at)],
        fields=("group", "user_id", "last_seen_at"),
        unique=("group", "user_id"),
        update=("last_seen_at",),
    )


def follow_migration(migration: Migration) -> None:
    """The client's `on_migrated` hook: a call found its group moved to a supergroup."""
    migrate_chat(migration.bot_telegram_id, migration.old_chat_id, migration.new_chat_id)


def mark_unreachable(bot_id: int, chat_id: int, reason: str, description: str) -> None:
    """Record (or refresh) that `bot_id` cannot reach `chat_id`. One upsert on the unique
    (bot, chat_id) row."""
    UnreachableChat.objects.update_or_create(
        bot_id=bot_id,
        chat_id=chat_id,
        defaults={
            "reason": reason,
            "description": description[:255],
            "marked_at": timezone.now(),
        },
    )


def note_refusal(refusal: Refusal) -> None:
    """The client's `on_unreachable` hook: Telegram answered 403 for this chat. A savepoint keeps
    a failed write from spoiling the caller's transaction."""
    bot_id = (
        Bot.objects.filter(telegram_id=refusal.bot_telegram_id).values_list("pk", flat=True).first()
    )
    if bot_id is None:
        return  # a token that is not (or no longer) one of our bots
    with transaction.atomic():
        mark_unreachable(bot_id, refusal.chat_id, refusal.reason, refusal.description)


def mark_reachable(bot_id: int, chat_id: int) -> bool:
    """Forget that the chat was unreachable; True if it was marked."""
    deleted, _ = UnreachableChat.objects.filter(bot_id=bot_id, chat_id=chat_id).delete()
    return deleted > 0


def is_unreachable(bot_id: int, chat_id: int) -> bool:
    return UnreachableChat.objects.filter(bot_id=bot_id, chat_id=chat_id).exists()
