"""Counts the database queries of every job a worker runs, for bench/accounts.py.

Loaded into a worker by Celery's own `--include` (CELERY_WORKER_INCLUDE=bench._queries); the
product is otherwise as it runs. Each job's queries are counted with Django's
`connection.execute_wrapper` and added, per kind of job, to the Redis hash `bench:queries`
(`<kind>:jobs`, `<kind>:queries`): a job of tasks.high.process_update is named by its update
(`start`, `check_live`, or the update's kind), any other by its task.
"""

from __future__ import annotations

import threading
from typing import Any

from celery.signals import task_postrun, task_prerun
from django.db import connection

from apps.ingress.sealing import opened
from gmbot.redis import get_redis

COUNTERS = "bench:queries"


class _Job(threading.local):
    kind = ""
    queries = 0
    wrapper: Any = None


_job = _Job()


def kind_of(task_name: str, args: Any) -> str:
    if task_name != "tasks.high.process_update" or not args or len(args) < 2:
        return task_name
    update = opened(args[1])
    if "callback_query" in update:
        return "check_live" if update["callback_query"].get("data") == "ac:live" else "button"
    text = (update.get("message") or {}).get("text") or ""
    return "start" if text.startswith("/start") else next(k for k in update if k != "update_id")


def _count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
    _job.queries += 1
    return execute(sql, params, many, context)


@task_prerun.connect
def _job_started(task: Any = None, args: Any = None, **_: Any) -> None:
    _job.kind = kind_of(task.name if task else "", args)
    _job.queries = 0
    _job.wrapper = connection.execute_wrapper(_count)
    _job.wrapper.__enter__()


@task_postrun.connect
def _job_finished(**_: Any) -> None:
    if _job.wrapper is None:
        return
    _job.wrapper.__exit__(None, None, None)
    _job.wrapper = None
    pipe = get_redis().pipeline(transaction=False)
    pipe.hincrby(COUNTERS, f"{_job.kind}:jobs", 1)
    pipe.hincrby(COUNTERS, f"{_job.kind}:queries", _job.queries)
    pipe.execute()
