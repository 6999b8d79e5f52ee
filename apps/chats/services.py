"""Services on groups and channels."""

from __future__ import annotations

import logging

from django.db import transaction

from apps.chats.models import Channel, Group

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
