"""Growth management's own state (SPEC M): a group's phase and its rules (M1), and every change
of phase. The facts every feature shares (the group, its channels and members) stay in
apps/chats."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone

from apps.chats.models import Group


class GrowthProfile(models.Model):
    """A group's growth settings: its phase (M1), the member target and dates that move it on,
    how join requests are decided while it is monitored, and the kick rule apps/members applies
    (M4: `kick_after_days`, None for no rule; `kick_dry_run` reports without kicking)."""

    class Phase(models.TextChoices):
        GROWTH = "growth", "growth"
        MONITORING = "monitoring", "monitoring"
        PAUSED = "paused", "paused"

    class MonitoringPolicy(models.TextChoices):
        # Keep the request waiting for an admin.
        HOLD = "hold", "hold for an admin"
        # Write to the requester (user_chat_id) with the channel's Join button.
        MESSAGE = "message", "message the requester to join the channel"

    group = models.OneToOneField(Group, on_delete=models.CASCADE, related_name="growth")
    phase = models.CharField(max_length=16, choices=Phase.choices, default=Phase.GROWTH)
    member_target = models.PositiveIntegerField(
        null=True, blank=True, help_text="growth ends when the member count reaches it"
    )
    starts_on = models.DateField(null=True, blank=True)
    ends_on = models.DateField(null=True, blank=True, help_text="growth ends after this day")
    monitoring_policy = models.CharField(
        max_length=16, choices=MonitoringPolicy.choices, default=MonitoringPolicy.HOLD
    )
    kick_after_days = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="kick members inactive this many days (empty: never)"
    )
    kick_dry_run = models.BooleanField(default=True, help_text="report whom, kick nobody")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"growth of {self.group}"


class PhaseTransition(models.Model):
    """One change of a group's phase, by a rule or by hand."""

    profile = models.ForeignKey(GrowthProfile, on_delete=models.CASCADE, related_name="transitions")
    from_phase = models.CharField(max_length=16, choices=GrowthProfile.Phase.choices)
    to_phase = models.CharField(max_length=16, choices=GrowthProfile.Phase.choices)
    reason = models.CharField(max_length=255, blank=True)
    # "rule", an admin's username, or a Telegram user id (/growth phase).
    by = models.CharField(max_length=64)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["profile", "-at"], name="transition_profile_at_idx")]

    def __str__(self) -> str:
        return f"{self.from_phase} → {self.to_phase} ({self.by})"


class JoinRequest(models.Model):
    """A `chat_join_request`, stored once per group (one bot, one chat) and user (SPEC M2).

    The Bot API cannot list pending requests, so this table is the record. The decision is
    made when the request arrives (by the group's phase) or later (an admin, the requester's
    "I've joined"); a decided request waits here (`approving`, `declining`) until the paced
    executor (services/executing.py) claims it by conditional update and calls Telegram."""

    class Status(models.TextChoices):
        HELD = "held", "held for an admin"
        MESSAGED = "messaged", "asked to join the channel"
        APPROVING = "approving", "to approve"
        DECLINING = "declining", "to decline"
        APPROVED = "approved", "approved"
        DECLINED = "declined", "declined"
        EXPIRED = "expired", "expired"
        FAILED = "failed", "failed"

    WAITING = (Status.HELD, Status.MESSAGED)
    QUEUED = (Status.APPROVING, Status.DECLINING)
    FINISHED = (Status.APPROVED, Status.DECLINED, Status.EXPIRED, Status.FAILED)

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="join_requests")
    user_id = models.BigIntegerField()
    # The private chat Telegram lets the bot write to for 5 minutes after the request.
    user_chat_id = models.BigIntegerField()
    requested_at = models.DateTimeField(help_text="the request's date, as Telegram reported it")
    phase_at_arrival = models.CharField(max_length=16, choices=GrowthProfile.Phase.choices)
    status = models.CharField(max_length=16, choices=Status.choices)
    decided_at = models.DateTimeField(null=True, blank=True)
    # "rule", an admin's username, or the requester's Telegram id ("I've joined").
    decided_by = models.CharField(max_length=64, blank=True)
    executed_at = models.DateTimeField(null=True, blank=True)
    # Why it is held, or what Telegram answered (already_participant, join_request_missing, …).
    reason = models.CharField(max_length=32, blank=True)
    description = models.CharField(max_length=255, blank=True)
    # The executor job holding the row while it calls Telegram (a token), and since when.
    claim = models.CharField(max_length=32, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["group", "user_id"], name="joinrequest_unique_group_user"
            ),
        ]
        indexes = [
            # The executor's queue: decided, not yet executed, oldest first.
            models.Index(
                fields=["group", "id"],
                condition=Q(status__in=["approving", "declining"]),
                name="joinrequest_queued_idx",
            ),
            models.Index(fields=["group", "status"], name="joinrequest_group_status_idx"),
            models.Index(fields=["status", "created_at"], name="joinrequest_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} → {self.group} ({self.status})"


class MemberCount(models.Model):
    """A group's member count as getChatMemberCount answered it (SPEC M5): the history the
    phase rules and the dashboard read."""

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="member_counts")
    count = models.PositiveIntegerField()
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at"]
        indexes = [
            models.Index(fields=["group", "-at"], name="membercount_group_at_idx"),
            models.Index(fields=["at"], name="membercount_at_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.group}: {self.count} at {self.at:%Y-%m-%d %H:%M}"
