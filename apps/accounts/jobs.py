"""Queueing the accounts feature's jobs, by task name (apps do not import tasks/)."""

from __future__ import annotations

from django.db import transaction

from gmbot.celery import app

TELL_REFERRER = "tasks.normal.tell_referrer"
REGISTER_CLONE = "tasks.high.register_clone"


def after_commit(task_name: str, *args: int) -> None:
    """Queue the task once the current transaction commits (at once outside one), so its worker
    finds the rows it is about and never acts for a transaction that rolled back."""
    transaction.on_commit(lambda: app.signature(task_name, args=args).apply_async())
