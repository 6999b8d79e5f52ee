"""Facts about chats that every feature shares: groups, their channels and members, and the chats
a bot can no longer reach."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone

from apps.bots.models import Bot, Owner


class Group(models.Model):
    """A Telegram group or supergroup managed by one bot."""

    bot = models.ForeignKey(Bot, on_delete=models.CASCADE, related_name="groups")
    chat_id = models.BigIntegerField(help_text="Telegram chat id (negative, may exceed 2^32)")
    owner = models.ForeignKey(
        Owner, null=True, blank=True, on_delete=models.SET_NULL, related_name="groups"
    )
    title = models.CharField(max_length=255, blank=True)
    # The platform's switch for the group: off, no feature acts in it. Each feature keeps its own
    # state of the group in its own app (the guard's protection: apps/guard/models.py).
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title", "chat_id"]
        constraints = [
            models.UniqueConstraint(fields=["bot", "chat_id"], name="group_unique_bot_chat"),
        ]
        indexes = [
            models.Index(fields=["bot"], condition=Q(enabled=True), name="group_enabled_idx"),
        ]

    def __str__(self) -> str:
        return self.title or str(self.chat_id)


class Channel(models.Model):
    """A Telegram channel whose subscribers may speak in the groups linked to it."""

    bot = models.ForeignKey(Bot, on_delete=models.CASCADE, related_name="channels")
    chat_id = models.BigIntegerField(help_text="Telegram chat id (negative, may exceed 2^32)")
    title = models.CharField(max_length=255, blank=True)
    username = models.CharField(max_length=64, blank=True)
    invite_link = models.URLField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title", "chat_id"]
        constraints = [
            models.UniqueConstraint(fields=["bot", "chat_id"], name="channel_unique_bot_chat"),
        ]

    def __str__(self) -> str:
        return f"@{self.username}" if self.username else (self.title or str(self.chat_id))

    @property
    def url(self) -> str:
        return f"https://t.me/{self.username}" if self.username else self.invite_link


class GroupChannelLink(models.Model):
    """A group requires membership in this channel. A group may require several channels."""

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="channel_links")
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="group_links")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["group", "channel"], name="link_unique_group_channel"),
        ]
        # Both foreign keys carry their own index, so lookups from either side are indexed.

    def __str__(self) -> str:
        return f"{self.group} ← {self.channel}"


class GroupMember(models.Model):
    """A member a bot has seen in a group: since when (`created_at`) and when last.

    What a feature decides about a member lives in that feature's app (the guard's verdict:
    apps.guard.models.MemberState)."""

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="members")
    user_id = models.BigIntegerField()
    last_seen_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-last_seen_at"]
        constraints = [
            models.UniqueConstraint(fields=["group", "user_id"], name="member_unique_group_user"),
        ]
        indexes = [
            models.Index(fields=["last_seen_at"], name="member_last_seen_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.group_id}"


class UnreachableChat(models.Model):
    """A chat (group, channel, or a user's private chat) where `bot` was refused with 403.

    Written the moment Telegram refuses (the client's `on_unreachable` hook, see
    apps/chats/apps.py); removed when the chat is heard from again (`services.mark_reachable`)."""

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
