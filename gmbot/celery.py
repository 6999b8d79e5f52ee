"""The one Celery app. All of its configuration lives in `celeryconfig.py`."""

from __future__ import annotations

import os

from celery import Celery
from celery.signals import import_modules, task_prerun, worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gmbot.settings")

app = Celery("gmbot", task_cls="tasks.base:GMTask")
app.config_from_object("celeryconfig")


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


@worker_process_init.connect
def _reset_inherited_connections(**_: object) -> None:
    """A prefork child must not reuse the parent's keep-alive sockets to Telegram or Redis."""
    from apps.telegram.client import reset_sessions
    from gmbot.redis import reset_connections

    reset_sessions()
    reset_connections()


@task_prerun.connect
def _drop_broken_db_connection(**_: object) -> None:
    # CELERY_DB_REUSE_MAX keeps the connection across tasks; this drops it only when an earlier
    # task left it unusable (e.g. after a PostgreSQL restart), which costs no round trip otherwise.
    from django.db import close_old_connections

    close_old_connections()
