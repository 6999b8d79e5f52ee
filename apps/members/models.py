"""Member activity (SPEC M3) and the inactive-member kicker (SPEC M4).

M3: for every member a bot sees in a managed group, when they joined, when they last wrote and
how many messages they wrote. M4: hourly, in each group whose growth profile has a kick rule
(apps.growth GrowthProfile.kick_after_days), members inactive longer than the rule are removed
(ban, then unban so they may come back), and every run is recorded here.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from apps.chats.models import Group


class MemberActivity(models.Model):
    """A member's activity in a group, written in batches by the flush (services/activity.py).

    Kept here rather than as columns of apps.chats GroupMember, which the guard writes on its
    own hot path (one upsert per member, throttled) with different meaning (`last_seen_at`: any
    sign of life, a button press included). The flush writes tens of thousands of rows at once;
    on the guard's table every batch would take row locks the guard's per-message upserts then
    wait on, and the kicker's index (below) would be one more index the guard pays for on every
    write. Activity is advisory (a lost sample is acceptable), the guard's record is not, so the
    two stay apart and apps/chats needs no migration.

    `joined_at` is when the bot last saw the member join (None for a member already there when
    the bot arrived); `first_seen_at` when the bot first saw them at all. `active_at` is the
    latest of the join (or, unknown, the first sighting) and the last message: the kicker's one
    condition ("inactive longer than N days, and joined
    longer ago than that" is exactly `active_at < now - N days`), so its selection is a range
    scan of one index. `left_at` is set when the member is seen leaving or is kicked, and
    cleared when they come back or write again.
    """

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="activity")
    user_id = models.BigIntegerField()
    is_bot = models.BooleanField(default=False)
    joined_at = models.DateTimeField(null=True, blank=True)
    first_seen_at = models.DateTimeField()
    last_message_at = models.DateTimeField(null=True, blank=True)
    message_count = models.PositiveIntegerField(default=0)
    active_at = models.DateTimeField()
    left_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "member activity"
        ordering = ["-active_at"]
        constraints = [
            models.UniqueConstraint(fields=["group", "user_id"], name="activity_unique_group_user"),
        ]
        indexes = [
            # The kicker's selection: one group's present members by inactivity, in order.
            models.Index(
                fields=["group", "active_at", "user_id"],
                condition=Q(left_at__isnull=True),
                name="activity_kick_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.group_id}"


class ActivityFlush(models.Model):
    """A flush of the Redis buffer that committed, by the token the buffer carried. Written in
    the flush's own transaction, so a flush that died after committing but before deleting the
    buffer is recognised by the next one, which then deletes it instead of counting it twice.
    Kept an hour (each flush deletes older ones)."""

    token = models.CharField(max_length=32, unique=True)
    members = models.PositiveIntegerField()
    messages = models.PositiveIntegerField()
    flushed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-flushed_at"]

    def __str__(self) -> str:
        return f"flush {self.token}"


class KickExemption(models.Model):
    """A member the kick rule of a group never removes, however silent."""

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="kick_exemptions")
    user_id = models.BigIntegerField()
    note = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["group", "user_id"], name="exemption_unique_group_user"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} exempt in {self.group_id}"


class KickRun(models.Model):
    """One run of a group's kick rule: what it found, did, skipped and failed at.

    One per group per scheduled hour (`slot`, unique with the group), so beat firing twice, or
    a replayed job, starts no second run. A run is worked through in chunks (one job each) that
    re-queue themselves; `after_active_at`/`after_user_id` is where the next chunk starts."""

    class Status(models.TextChoices):
        RUNNING = "running", "running"
        DONE = "done", "done"
        FAILED = "failed", "failed"

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="kick_runs")
    slot = models.DateTimeField(help_text="the hour the run was scheduled for")
    kick_after_days = models.PositiveIntegerField(help_text="the rule: days of inactivity")
    dry_run = models.BooleanField()
    cutoff = models.DateTimeField(help_text="members not active since this are candidates")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.RUNNING)
    candidates = models.PositiveIntegerField(default=0)
    removed = models.PositiveIntegerField(default=0)
    # Dry run: who would have been removed (user ids); a real run: who was.
    listed = models.JSONField(default=list, blank=True)
    # {reason: count}: admin, owner, this bot, other bot, exempt, active again, not a member.
    skipped = models.JSONField(default=dict, blank=True)
    # [{user_id, error}], the first ERRORS_KEPT of them; `error_count` counts them all.
    errors = models.JSONField(default=list, blank=True)
    error_count = models.PositiveIntegerField(default=0)
    chunks = models.PositiveIntegerField(default=0)
    calls = models.PositiveIntegerField(default=0, help_text="Bot API calls made")
    # Who may never be removed, read from Telegram once per run (getChatAdministrators):
    # {"owner": [user ids], "admin": [user ids]}.
    protected_ids = models.JSONField(default=dict, blank=True)
    after_active_at = models.DateTimeField(null=True, blank=True)
    after_user_id = models.BigIntegerField(default=0)
    # Held by the job working on a chunk (a conditional update claims it).
    lease_until = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_seconds = models.FloatField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    ERRORS_KEPT = 100
    LISTED_KEPT = 10_000

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(fields=["group", "slot"], name="kickrun_unique_group_slot"),
        ]

    def __str__(self) -> str:
        kind = "dry run" if self.dry_run else "run"
        return f"kick {kind} in {self.group} at {self.slot:%Y-%m-%d %H:%M}"
