"""When a `low` worker starts, broadcasts left half-sent by workers that died are picked up
again: a job whose worker was killed outright stays unacknowledged in Redis until its visibility
timeout (hours), so waiting for the broker would leave the broadcast stuck that long. Only when
a broadcast is under way: a worker that starts with none sends nothing."""

from __future__ import annotations

from typing import Any

from celery.signals import worker_ready

from celeryconfig import LOW


@worker_ready.connect(dispatch_uid="broadcasts-resume-on-start")
def resume_after_start(sender: Any = None, **_: Any) -> None:
    from django.conf import settings
    from django.db import connection

    from apps.broadcasts.services import resume
    from gmbot.celery import app

    if LOW not in app.amqp.queues.consume_from:
        return
    try:
        under_way = resume.anything_under_way()
    finally:
        # The main process forks new children later: they must not share its connection.
        connection.close()
    if under_way:
        # A job on `normal`, as the beat entry sends it, not work in the worker's main process;
        # once the dead jobs' marks of life have lapsed (services/resume.py), or it would find
        # them still standing and leave the broadcast alone.
        app.send_task(
            "tasks.normal.resume_broadcasts", countdown=settings.BROADCAST_LEASE_SECONDS * 2 + 1
        )
