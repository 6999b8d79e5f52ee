"""Dead letters: jobs that ran out of retries or were refused for good (SPEC Q2, Q3)."""

from __future__ import annotations

import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models


class DeadLetter(models.Model):
    """One job that will not run again unless someone replays it.

    A row is written by `tasks.base.GMTask` when a job's retries are spent or a permanent error
    refuses it. `task_id` is unique: a job redelivered after a crash and dead-lettered again
    updates its row instead of adding a second one. A replay sends a new job (`replayed_task_id`);
    if that one dies too, it gets its own row.
    """

    class Status(models.TextChoices):
        DEAD = "dead", "dead"
        REPLAYED = "replayed", "replayed"
        DISCARDED = "discarded", "discarded"

    task_name = models.CharField(max_length=200)
    task_id = models.CharField(max_length=64, unique=True)
    args = models.JSONField(default=list, blank=True, encoder=DjangoJSONEncoder)
    kwargs = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    # PostgreSQL refuses NUL and lone surrogates in jsonb and text. When the job's arguments held
    # some, `args` and `kwargs` show them as U+FFFD and this keeps the exact arguments as ASCII
    # JSON (which escapes both), for replay. Empty when `args` and `kwargs` are exact.
    original_json = models.TextField(blank=True)
    # What Flower and the logs showed instead of the arguments (an update's text stays out of
    # them); a replay shows the same.
    argsrepr = models.TextField(blank=True)
    kwargsrepr = models.TextField(blank=True)
    queue = models.CharField(max_length=32)
    exception_class = models.CharField(max_length=200)
    # Telegram's own text when the error came from Telegram, else str(exception).
    description = models.TextField(blank=True)
    traceback = models.TextField(blank=True)
    attempts = models.PositiveIntegerField()
    first_failed_at = models.DateTimeField()
    last_failed_at = models.DateTimeField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DEAD)
    replayed_at = models.DateTimeField(null=True, blank=True)
    replayed_task_id = models.CharField(max_length=64, blank=True)
    discarded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            # the DLQ endpoint and the alert: one queue's rows of one status, newest first
            models.Index(fields=["queue", "status", "-id"], name="ops_dl_queue_status_id"),
            # the admin's other filters
            models.Index(fields=["task_name"], name="ops_dl_task_name"),
            models.Index(fields=["exception_class"], name="ops_dl_exception_class"),
            # the clean-up: settled rows by age
            models.Index(fields=["status", "last_failed_at"], name="ops_dl_status_failed_at"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=["dead", "replayed", "discarded"]),
                name="ops_dl_status_valid",
            ),
            models.CheckConstraint(condition=models.Q(attempts__gte=1), name="ops_dl_attempted"),
        ]

    def __str__(self) -> str:
        return f"{self.task_name}[{self.task_id}] {self.exception_class} ({self.status})"

    def job_arguments(self) -> tuple[list[Any], dict[str, Any]]:
        """The job's exact arguments, as it was called: what a replay sends."""
        if self.original_json:
            exact = json.loads(self.original_json)
            return exact["args"], exact["kwargs"]
        return self.args, self.kwargs
