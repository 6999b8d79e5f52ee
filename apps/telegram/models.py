"""Chats and users a bot can no longer reach (Telegram answered 403 Forbidden)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from apps.bots.models import Bot


class UnreachableChat(models.Model):
    """A chat (group, channel, or a user's private chat) where `bot` was refused with 403.

    Written by the client the moment Telegram refuses; removed when the chat is heard from again
    (`services.mark_reachable`)."""

    class Reason(models.TextChoices):
        BLOCKED = "blocked", "blocked by the user"
        KICKED = "kicked", "bot kicked from the chat"
        NOT_MEMBER = "not_member", "bot not a member"
        DEACTIVATED = "deactivated", "user deactivated"
        NOT_STARTED = "not_started", "user never started the bot"
        IS_BOT = "is_bot", "the user is a bot"
        FORBIDDEN = "forbidden", "other Forbidden answer"

    bot = models.ForeignKey(Bot, on_delete=models.CASCADE, related_name="unreachable_chats")
    chat_id = models.BigIntegerField(help_text="Telegram chat id; a user's id for private chats")
    reason = models.CharField(max_length=16, choices=Reason.choices)
    description = models.CharField(max_length=255, help_text="Telegram's own words")
    marked_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-marked_at"]
        constraints = [
            models.UniqueConstraint(fields=["bot", "chat_id"], name="unreachable_unique_bot_chat"),
        ]

    def __str__(self) -> str:
        return f"{self.chat_id} ({self.reason})"
