"""GMBot's Celery app with counters for bench/enforcement.py: `celery -A bench._probe worker`.

The benchmark starts the Procfile's `worker_high` line with `-A bench._probe` instead of
`-A gmbot`; everything else is the product as it runs. Per update kind it counts the jobs, the
database queries and the Redis round trips made inside the job and the job's wall time; per
process, every Redis round trip (Celery's own: fetching, acknowledging, events) and the garbage
collector's runs and time. The job's CPU
(its thread's: right for prefork and threads, not for gevent) against the process's tells what
Celery costs around the job. Each process
writes its running totals to BENCH_PROBE_DIR/probe-<pid>.json every half second; the benchmark
reads them before and after the measured window. A counter costs well under a microsecond, far
below what it counts.
"""

from __future__ import annotations

import gc
import json
import os
import threading
import time
from pathlib import Path
from typing import Any

from celery.signals import task_postrun, task_prerun, worker_init, worker_process_init
from django.db.backends import utils
from redis import connection as redis_connection

from apps.ingress import ordering
from apps.telegram import ratelimit
from gmbot.celery import app

__all__ = ["app"]

FLUSH_SECONDS = 0.5


class _Job(threading.local):
    """The job running in this thread (or greenlet, under gevent's patched threading.local)."""

    kind: str | None = None
    queries = 0
    redis = 0
    started = 0.0
    cpu = 0.0


_job = _Job()
# kind → [jobs, queries, Redis round trips, seconds, CPU seconds];
# "process" → [0, 0, every round trip, 0, 0]
_totals: dict[str, list[float]] = {
    "process": [0, 0, 0, 0, 0], "gc": [0, 0, 0, 0, 0, 0], "turn": [0, 0, 0], "budget": [0, 0, 0],
}  # fmt: skip
# "turn" → [jobs that found an earlier update of their chat still running, seconds they waited
# for it, jobs in all]
_lock = threading.Lock()
# (update id, when its job started): appended to BENCH_PROBE_DIR/starts-<pid>.txt as they come,
# so the benchmark splits an action's latency at the job's start.
_starts: list[tuple[int, float]] = []
# (update id, seconds it waited for an earlier update of its chat): BENCH_PROBE_DIR/turns-<pid>.txt,
# for the jobs that waited, so a slow action can be told from one that queued behind its chat.
_turns: list[tuple[str, float]] = []
# "gc" → [collections of generation 0, 1, 2, then the seconds each generation's took]
_gc_started = [0.0]


def _time_collections(phase: str, info: dict[str, int]) -> None:
    # The collector runs with the GIL held, in whichever thread allocated: a pause for them all.
    if phase == "start":
        _gc_started[0] = time.perf_counter()
        return
    generation = info["generation"]
    _totals["gc"][generation] += 1
    _totals["gc"][3 + generation] += time.perf_counter() - _gc_started[0]


gc.callbacks.append(_time_collections)


def update_kind(update: dict[str, Any]) -> str:
    """message, message:join (a join's service message), callback_query, chat_member, ..."""
    kind = next((key for key in update if key != "update_id"), "")
    if kind == "message" and "new_chat_members" in update[kind]:
        return "message:join"
    return kind


def _count_query(original: Any) -> Any:
    def counted(self: Any, *args: Any, **kwargs: Any) -> Any:
        if _job.kind is not None:
            _job.queries += 1
        return original(self, *args, **kwargs)

    return counted


def _count_round_trip(original: Any) -> Any:
    # One send_packed_command is one request on the wire: a command, or a whole pipeline.
    def counted(self: Any, *args: Any, **kwargs: Any) -> Any:
        _totals["process"][2] += 1
        if _job.kind is not None:
            _job.redis += 1
        return original(self, *args, **kwargs)

    return counted


def _time_turns(original: Any) -> Any:
    def timed(self: Any, place: int | None) -> None:
        _totals["turn"][2] += 1
        if not place:
            return original(self, place)
        started = time.perf_counter()
        try:
            return original(self, place)
        finally:
            waited = time.perf_counter() - started
            _totals["turn"][0] += 1
            _totals["turn"][1] += waited
            # and by the waiting job's kind: "turn:message", "turn:chat_member", ...
            by_kind = _totals.setdefault(f"turn:{_job.kind}", [0, 0])
            by_kind[0] += 1
            by_kind[1] += waited
            _turns.append((self.member, waited))

    return timed


def _time_budgets(original: Any) -> Any:
    def timed(*args: Any, **kwargs: Any) -> float:
        slept: float = original(*args, **kwargs)
        # "budget" → [Bot API calls, of them those that slept for a bot's or chat's budget, the
        # seconds slept]: at a bot's 100 calls/s the pacing, not the host, sets the latency.
        with _lock:  # every thread of the process calls Telegram: no increment may be lost
            totals = _totals["budget"]
            totals[0] += 1
            if slept > 0:
                totals[1] += 1
                totals[2] += slept
        return slept

    return timed


ordering.Turn.wait = _time_turns(ordering.Turn.wait)  # type: ignore[method-assign]
ratelimit.acquire = _time_budgets(ratelimit.acquire)
utils.CursorWrapper.execute = _count_query(utils.CursorWrapper.execute)  # type: ignore[method-assign]
utils.CursorWrapper.executemany = _count_query(utils.CursorWrapper.executemany)  # type: ignore[method-assign]
redis_connection.AbstractConnection.send_packed_command = _count_round_trip(  # type: ignore[method-assign]
    redis_connection.AbstractConnection.send_packed_command
)


@task_prerun.connect
def _job_started(args: Any = None, **_: Any) -> None:
    update = args[1] if args and len(args) > 1 and isinstance(args[1], dict) else None
    _job.kind = update_kind(update) if update is not None else "other"
    if update is not None and isinstance(update.get("update_id"), int):
        _starts.append((update["update_id"], time.time()))
    _job.queries = _job.redis = 0
    _job.started = time.perf_counter()
    _job.cpu = time.thread_time()


@task_postrun.connect
def _job_finished(**_: Any) -> None:
    if _job.kind is None:
        return
    with _lock:
        totals = _totals.setdefault(_job.kind, [0, 0, 0, 0, 0])
        totals[0] += 1
        totals[1] += _job.queries
        totals[2] += _job.redis
        totals[3] += time.perf_counter() - _job.started
        totals[4] += time.thread_time() - _job.cpu
    _job.kind = None


def _flush_forever(path: Path, starts: Path, turns: Path) -> None:
    written = [0, 0]
    while True:
        with _lock:
            text = json.dumps(_totals)
        path.write_text(text)
        # Both lists are appended to, never changed: no lock needed to read them.
        outputs: tuple[tuple[list[Any], Path], ...] = ((_starts, starts), (_turns, turns))
        for n, (rows, out_path) in enumerate(outputs):
            fresh = rows[written[n] :]
            if fresh:
                with out_path.open("a") as out:
                    out.writelines(f"{key} {value:.6f}\n" for key, value in fresh)
                written[n] += len(fresh)
        time.sleep(FLUSH_SECONDS)


@worker_init.connect
@worker_process_init.connect
def _start_flushing(**_: Any) -> None:
    """In the main process and in every prefork child (a fork keeps no thread)."""
    directory = os.environ.get("BENCH_PROBE_DIR")
    if directory:
        path = Path(directory) / f"probe-{os.getpid()}.json"
        starts = Path(directory) / f"starts-{os.getpid()}.txt"
        turns = Path(directory) / f"turns-{os.getpid()}.txt"
        threading.Thread(target=_flush_forever, args=(path, starts, turns), daemon=True).start()
