"""The guard's own state: what it decided about groups and members. The facts every feature
shares (the group, its channels, its members and when they were last seen) stay in apps/chats.
"""

from __future__ import annotations

from django.db import models

from apps.chats.models import Group


class GroupProtection(models.Model):
    """A group's channel-subscription protection (SPEC G3-G10): switched on by /protect and off
    by /unprotect, paused when the bot lost a right it needs, and the group's own settings.

    Protection applies while it is enabled, not paused, the group itself is enabled (the
    platform's switch, apps/chats) and it links at least one channel."""

    group = models.OneToOneField(
        Group, primary_key=True, on_delete=models.CASCADE, related_name="protection"
    )
    enabled = models.BooleanField(default=True)
    settings = models.JSONField(
        default=dict, blank=True, help_text="warning text, button texts and mode (/settings)"
    )
    # Set when the bot lost the rights it needs (SPEC G10): no enforcement call is made until an
    # admin runs /reactivate and the checks pass again.
    paused_at = models.DateTimeField(null=True, blank=True)
    pause_reason = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"protection of {self.group}"


class MemberState(models.Model):
    """What the guard last decided about a member of a protected group, and when it checked.

    Feeds /status (verified and restricted counts) and batch verification (SPEC G11), which
    re-checks recently active (apps.chats GroupMember.last_seen_at) verified members."""

    class Status(models.TextChoices):
        VERIFIED = "verified", "verified"
        RESTRICTED = "restricted", "restricted"

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="member_states")
    user_id = models.BigIntegerField()
    status = models.CharField(max_length=16, choices=Status.choices)
    checked_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-checked_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["group", "user_id"], name="memberstate_unique_group_user"
            ),
        ]
        indexes = [
            models.Index(fields=["group", "status"], name="memberstate_group_status_idx"),
            models.Index(fields=["status", "checked_at"], name="memberstate_status_checked_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.group_id}: {self.status}"
