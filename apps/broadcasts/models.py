"""Broadcasts (SPEC B): one message promoted to every managed group of a bot, a delivery row per
target that accounts for it, and the broadcast state of bots and groups.

Per-group broadcast state (may the final message go there, consecutive failures, deactivated for
broadcasts) and per-bot paid broadcasting are this feature's decisions, so they live here beside
the Group and Bot rows they describe, not as columns on apps/chats or apps/bots.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import Q

from apps.bots.models import Bot
from apps.chats.models import Group
from apps.live.models import LiveEntry

# Telegram's price of a message sent with allow_paid_broadcast.
STARS_PER_PAID_MESSAGE = Decimal("0.1")
PAID_RATE_MAX = 1000  # Telegram's ceiling for paid broadcasting, messages per second


class BroadcastBot(models.Model):
    """A bot's paid broadcasting (SPEC B8): with it on, a paid broadcast goes out at `paid_rate`
    messages a second instead of the bulk budget, for 0.1 Star each from the bot's balance."""

    bot = models.OneToOneField(
        Bot, primary_key=True, on_delete=models.CASCADE, related_name="broadcasting"
    )
    allow_paid_broadcast = models.BooleanField(default=False)
    paid_rate = models.PositiveIntegerField(
        default=PAID_RATE_MAX, help_text=f"messages a second, 1 to {PAID_RATE_MAX}"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "bot's paid broadcasting"
        verbose_name_plural = "bots' paid broadcasting"
        constraints = [
            models.CheckConstraint(
                condition=Q(paid_rate__gte=1, paid_rate__lte=PAID_RATE_MAX),
                name="broadcastbot_paid_rate_range",
            ),
        ]

    def __str__(self) -> str:
        return f"paid broadcasting of {self.bot}"


class GroupBroadcasting(models.Model):
    """How broadcasts treat one group (SPEC B2, B4). No row means the defaults: the final message
    allowed, no failures, active."""

    group = models.OneToOneField(
        Group, primary_key=True, on_delete=models.CASCADE, related_name="broadcasting"
    )
    final_message_allowed = models.BooleanField(
        default=True, help_text="off: broadcasts skip this group"
    )
    consecutive_failures = models.PositiveIntegerField(default=0)
    deactivated_at = models.DateTimeField(
        null=True, blank=True, help_text="set after 3 failures in a row: broadcasts skip it"
    )
    deactivation_reason = models.CharField(max_length=255, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "group's broadcasting"
        verbose_name_plural = "groups' broadcasting"

    def __str__(self) -> str:
        return f"broadcasting of {self.group}"


class Broadcast(models.Model):
    """One message (text, or a photo with the text as caption) with a JOIN LIVE button and an
    optional BAN button, to all active groups of a bot or a chosen set."""

    class Status(models.TextChoices):
        DRAFT = "draft", "draft (not started)"
        QUEUED = "queued", "queued"
        SENDING = "sending", "sending"
        PAUSED = "paused", "paused"
        DONE = "done", "done"
        STOPPED = "stopped", "stopped"

    class Deletion(models.TextChoices):
        NONE = "", "—"
        DELETING = "deleting", "deleting everywhere"
        DELETED = "deleted", "deleted everywhere"

    bot = models.ForeignKey(Bot, on_delete=models.CASCADE, related_name="broadcasts")
    live = models.ForeignKey(
        LiveEntry,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="broadcasts",
        help_text="the live entry promoted (JOIN LIVE, BAN)",
    )
    text = models.TextField(help_text="the message, or the photo's caption (at most 1,024)")
    photo = models.CharField(
        max_length=500, blank=True, help_text="a Telegram file id or an https URL; empty: text"
    )
    join_url = models.URLField(
        max_length=500, blank=True, help_text="JOIN LIVE's URL; empty: the live entry's"
    )
    ban_button = models.BooleanField(default=False, help_text="add the BAN button")
    all_groups = models.BooleanField(
        default=True, help_text="every active group of the bot; off: the chosen groups"
    )
    chosen_groups = models.ManyToManyField(Group, blank=True, related_name="+")
    paid = models.BooleanField(
        default=False, help_text="send with allow_paid_broadcast (the bot must allow it)"
    )
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.DRAFT)
    status_reason = models.CharField(max_length=255, blank=True)
    deletion = models.CharField(max_length=8, choices=Deletion.choices, blank=True, default="")
    created_via = models.CharField(max_length=8, default="admin", editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    deletion_requested_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status"], name="broadcast_status_idx")]

    def __str__(self) -> str:
        first = self.text.splitlines()[0] if self.text else ""
        return f"#{self.pk} {first[:40]}"

    @property
    def button_url(self) -> str:
        return self.join_url or (self.live.url if self.live else "")


class Delivery(models.Model):
    """One target of a broadcast, and what became of it. Unique per (broadcast, group); a row
    leaves `pending` once and for all: claimed (`sending`) just before its call, then `sent`,
    `failed` or `unknown` (claimed but no answer recorded: never sent again), or `skipped` when
    planned."""

    class Status(models.TextChoices):
        PENDING = "pending", "pending"
        SENDING = "sending", "sending"
        SENT = "sent", "sent"
        SKIPPED = "skipped", "skipped"
        FAILED = "failed", "failed"
        UNKNOWN = "unknown", "unknown (maybe sent)"

    class Deletion(models.TextChoices):
        NONE = "", "—"
        DELETING = "deleting", "deleting"
        DELETED = "deleted", "deleted"
        ALREADY_DELETED = "already_deleted", "already deleted"
        WRONG_BOT = "wrong_bot", "not this bot's message"
        NOT_ENOUGH_RIGHTS = "not_enough_rights", "not enough rights"
        TOO_OLD = "too_old", "older than 48 hours"
        CHAT_UNREACHABLE = "chat_unreachable", "chat unreachable"

    broadcast = models.ForeignKey(Broadcast, on_delete=models.CASCADE, related_name="deliveries")
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="deliveries")
    chat_id = models.BigIntegerField(help_text="where it went: the group's id when sent")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    reason = models.CharField(max_length=32, blank=True, help_text="why skipped or failed")
    description = models.CharField(max_length=255, blank=True, help_text="Telegram's own words")
    message_id = models.BigIntegerField(null=True, blank=True)
    debug_code = models.CharField(max_length=12, blank=True, db_index=True)
    # The attempt that claimed the row (sending.Attempt) and when: a claim whose attempt is gone
    # is settled by the rule in services/sending.py.
    claim = models.CharField(max_length=32, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    deletion = models.CharField(max_length=20, choices=Deletion.choices, blank=True, default="")
    deletion_description = models.CharField(max_length=255, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["broadcast", "group"], name="delivery_unique_broadcast_group"
            ),
        ]
        indexes = [
            models.Index(fields=["broadcast", "status"], name="delivery_broadcast_status_idx"),
            models.Index(fields=["broadcast", "deletion"], name="delivery_broadcast_del_idx"),
            # the dashboard's sends per day (apps/broadcasts/dashboard.py)
            models.Index(fields=["finished_at"], name="delivery_finished_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.broadcast_id} → {self.chat_id}: {self.status}"


class LiveBan(models.Model):
    """A group's admin pressed BAN (SPEC B7): this live entry is never promoted there again.
    Deleting the row (the admin) undoes it."""

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="live_bans")
    live = models.ForeignKey(LiveEntry, on_delete=models.CASCADE, related_name="bans")
    banned_by = models.BigIntegerField(help_text="the admin's Telegram id")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "live entry banned in a group"
        verbose_name_plural = "live entries banned in groups"
        constraints = [
            models.UniqueConstraint(fields=["group", "live"], name="liveban_unique_group_live"),
        ]

    def __str__(self) -> str:
        return f"{self.live} banned in {self.group}"
