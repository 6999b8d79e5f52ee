"""Which chats a bot can still reach. The client marks a chat on Telegram's 403 Forbidden; code
that hears from the chat again (a message, a /start, a my_chat_member update) clears it.

`bot_id` is the primary key of apps.bots.models.Bot everywhere here.
"""

from __future__ import annotations

from django.utils import timezone

from apps.telegram.models import UnreachableChat


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


def mark_reachable(bot_id: int, chat_id: int) -> bool:
    """Forget that the chat was unreachable; True if it was marked."""
    deleted, _ = UnreachableChat.objects.filter(bot_id=bot_id, chat_id=chat_id).delete()
    return deleted > 0


def is_unreachable(bot_id: int, chat_id: int) -> bool:
    return UnreachableChat.objects.filter(bot_id=bot_id, chat_id=chat_id).exists()
