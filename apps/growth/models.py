"""Growth management's own state (SPEC M): a group's phase and its rules (M1), and every change
of phase. The facts every feature shares (the group, its channels and members) stay in
apps/chats."""

from __future__ import annotations

from django.db import models

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
