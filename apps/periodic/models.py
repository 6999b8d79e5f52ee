"""Periodic messages (SPEC M6): a message (text, or a photo with the text as caption) with URL
buttons, sent to one group, several or every active group of a bot on an interval or a crontab.

Each definition owns one django-celery-beat `PeriodicTask` row, created, changed and removed with
it in the same transaction (services/schedule.py): beat reads the schedule from there, and the
admin of periodic messages is the only place it is edited. Each time beat fires, a run is written
once per (message, run key) and one send row per target group, unique per (run, group): a
redelivered or repeated job finds them and never sends twice to one chat.
"""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator, URLValidator
from django.db import models
from django.db.models import Q
from django_celery_beat.models import PeriodicTask

from apps.bots.models import Bot
from apps.broadcasts.models import Delivery
from apps.chats.models import Group

# Telegram's own limits: a message's text, a photo's caption, a button's text.
TEXT_MAX = 4096
CAPTION_MAX = 1024
BUTTON_TEXT_MAX = 64
# Ours: a keyboard small enough to read on a phone.
BUTTON_ROWS_MAX = 8
BUTTONS_PER_ROW_MAX = 8


class PeriodicMessage(models.Model):
    class Kind(models.TextChoices):
        INTERVAL = "interval", "every N minutes, hours or days"
        CRONTAB = "crontab", "crontab (minute, hour, day of month, month, day of week)"

    class Period(models.TextChoices):
        MINUTES = "minutes", "minutes"
        HOURS = "hours", "hours"
        DAYS = "days", "days"

    bot = models.ForeignKey(Bot, on_delete=models.CASCADE, related_name="periodic_messages")
    name = models.CharField(max_length=100, help_text="for the admin and the schedule's row")
    text = models.TextField(
        blank=True,
        help_text=f"the message (at most {TEXT_MAX:,}), or the photo's caption ({CAPTION_MAX:,})",
    )
    photo = models.CharField(
        max_length=500, blank=True, help_text="a Telegram file id or an https URL; empty: text"
    )
    all_groups = models.BooleanField(
        default=False, help_text="every active group of the bot; off: the chosen groups"
    )
    groups = models.ManyToManyField(Group, blank=True, related_name="+")
    kind = models.CharField("schedule", max_length=8, choices=Kind.choices, default=Kind.INTERVAL)
    every = models.PositiveIntegerField(null=True, blank=True, help_text="interval: how many")
    period = models.CharField(
        max_length=8, choices=Period.choices, blank=True, help_text="interval: of what"
    )
    minute = models.CharField(max_length=64, default="0", help_text="crontab: e.g. 0, */15")
    hour = models.CharField(max_length=64, default="*", help_text="crontab: e.g. *, 9-17")
    day_of_month = models.CharField(max_length=64, default="*", help_text="crontab: 1-31")
    month_of_year = models.CharField(max_length=64, default="*", help_text="crontab: 1-12")
    day_of_week = models.CharField(
        max_length=64, default="*", help_text="crontab: 0-6, 0 is Sunday; mon-fri"
    )
    timezone = models.CharField(
        max_length=64, default="UTC", help_text="crontab: the zone its hours are in"
    )
    enabled = models.BooleanField(default=True)
    # The beat row this definition owns (services/schedule.py). PROTECT: it goes only with the
    # definition, never on its own from django-celery-beat's admin.
    task = models.OneToOneField(
        PeriodicTask,
        null=True,
        blank=True,
        editable=False,
        on_delete=models.PROTECT,
        related_name="periodic_message",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["bot", "name"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="interval") | Q(every__gte=1, period__in=["minutes", "hours",
                                                                           "days"]),
                name="periodicmessage_interval_complete",
            ),
        ]  # fmt: skip

    def __str__(self) -> str:
        return self.name

    def save(self, *args: object, **kwargs: object) -> None:
        """Saved with its beat row, in one transaction: the row follows every change."""
        from django.db import transaction

        from apps.periodic.services import schedule

        with transaction.atomic():
            super().save(*args, **kwargs)  # type: ignore[arg-type]
            schedule.do_sync(self)


class PeriodicButton(models.Model):
    """One URL button under a periodic message; `row` and `position` place it."""

    message = models.ForeignKey(PeriodicMessage, on_delete=models.CASCADE, related_name="buttons")
    text = models.CharField(max_length=BUTTON_TEXT_MAX)
    url = models.CharField(
        max_length=500, validators=[URLValidator(schemes=["http", "https"])],
        help_text="http(s) URL opened by the button",
    )  # fmt: skip
    row = models.PositiveSmallIntegerField(
        default=1, validators=[MinValueValidator(1), MaxValueValidator(BUTTON_ROWS_MAX)]
    )
    position = models.PositiveSmallIntegerField(default=1, help_text="left to right in its row")

    class Meta:
        ordering = ["row", "position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(row__gte=1, row__lte=BUTTON_ROWS_MAX), name="periodicbutton_row_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.text} → {self.url}"


class PeriodicRun(models.Model):
    """One time beat fired for a message. `run_key` names the scheduled run (the slot of the
    schedule it fell in); `task_id` is the job that wrote it, so its redelivery finds it."""

    message = models.ForeignKey(PeriodicMessage, on_delete=models.CASCADE, related_name="runs")
    run_key = models.CharField(max_length=40)
    task_id = models.CharField(max_length=64, blank=True, db_index=True)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(fields=["message", "run_key"], name="periodicrun_unique_key"),
        ]

    def __str__(self) -> str:
        return f"{self.message} at {self.run_key}"


class PeriodicSend(models.Model):
    """One target of a run and what became of it. Unique per (run, group), so per (message, run
    key, chat); a row leaves `pending` once: claimed (`sending`) just before its call, then
    `sent`, `failed` or `unknown` (claimed, no answer recorded: never sent again), or `skipped`
    when the run was planned."""

    # The same life as a broadcast's delivery, sent by the same code (broadcasts' deliver()).
    Status = Delivery.Status

    run = models.ForeignKey(PeriodicRun, on_delete=models.CASCADE, related_name="sends")
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="periodic_sends")
    chat_id = models.BigIntegerField(help_text="where it went: the group's id when sent")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    reason = models.CharField(max_length=32, blank=True, help_text="why skipped or failed")
    description = models.CharField(max_length=255, blank=True, help_text="Telegram's own words")
    message_id = models.BigIntegerField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["run", "group"], name="periodicsend_unique_run_group"),
        ]
        indexes = [models.Index(fields=["run", "status"], name="periodicsend_run_status_idx")]

    def __str__(self) -> str:
        return f"{self.run_id} → {self.chat_id}: {self.status}"
