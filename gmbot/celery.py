"""The one Celery app. All of its configuration lives in `celeryconfig.py`."""

from __future__ import annotations

import os
from typing import Any

from celery import Celery
from celery.signals import (
    import_modules,
    setup_logging,
    task_prerun,
    worker_process_init,
    worker_process_shutdown,
    worker_ready,
    worker_shutdown,
)
from django_structlog.celery.steps import DjangoStructLogInitStep

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gmbot.settings")


@import_modules.connect
def _metrics_directory(sender: Any = None, **_: object) -> None:
    """A worker's (or beat's) processes write their samples where /metrics finds them
    (gmbot/metrics_files.py). Connected before the app exists, so it runs before the Django
    fix-up's own receiver sets Django up and the apps import gmbot.metrics."""
    if getattr(getattr(sender, "loader", None), "worker_initialized", False):
        from gmbot import metrics_files

        metrics_files.use("celery")


app = Celery("gmbot", task_cls="tasks.base:GMTask")
app.config_from_object("celeryconfig")
# request_id and task_id travel with each job and are bound to its log lines (django-structlog).
app.steps["worker"].add(DjangoStructLogInitStep)


@setup_logging.connect
def _log_as_every_process_does(**_: Any) -> None:
    """Celery's workers and beat log with the project's LOGGING (gmbot/logs.py) instead of taking
    over the root logger with a format of their own."""
    from logging.config import dictConfig

    from django.conf import settings

    dictConfig(settings.LOGGING)


@import_modules.connect(sender=app)
def _refuse_to_start_without_services(**_: object) -> None:
    """A worker or beat whose database, Redis or broker cannot be used stops here with one
    sentence (gmbot.startup), before it consumes or schedules anything.

    Celery sends import_modules after its Django fix-up has loaded our settings (so a bad
    setting has already stopped the process with its own sentence). `worker_initialized` tells a
    worker or beat starting up from code that only imports the task modules (tests, `celery
    inspect`).
    """
    if app.loader.worker_initialized:
        from gmbot.startup import check_services

        check_services()


@worker_ready.connect
@worker_process_init.connect
def _freeze_what_is_loaded(**_: object) -> None:
    """The worker (and each prefork child) has loaded all it runs: the collector leaves that out
    of its walks from now on (gmbot/heap.py)."""
    from gmbot import heap

    heap.freeze_what_is_loaded()


@worker_process_init.connect
def _reset_inherited_connections(**_: object) -> None:
    """A prefork child must not reuse the parent's keep-alive sockets to Telegram or Redis."""
    from apps.telegram.client import reset_sessions
    from gmbot.redis import reset_connections

    reset_sessions()
    reset_connections()


@worker_process_shutdown.connect
def _leave_counts_behind(pid: int | None = None, **_: object) -> None:
    """A pool process stops: what it counted for the dashboard is written, its live gauges go."""
    from apps.telegram import usage
    from gmbot import metrics_files

    usage.flush()
    metrics_files.child_exited(pid or os.getpid())


@worker_shutdown.connect
def _forget_samples(**_: object) -> None:
    from gmbot import metrics_files

    metrics_files.master_exiting()


@task_prerun.connect
def _drop_broken_db_connection(**_: object) -> None:
    # CELERY_DB_REUSE_MAX keeps the connection across tasks; this drops it only when an earlier
    # task left it unusable (e.g. after a PostgreSQL restart), which costs no round trip otherwise.
    from django.db import close_old_connections

    close_old_connections()
