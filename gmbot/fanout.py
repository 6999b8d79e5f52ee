"""Run a job's independent pieces of waiting at once: `each(work, items)`, `as_done`, `both`.

A job that asks Telegram several things that do not depend on each other (the membership of a
user in each of a group's channels; a channel leave's check in each linked group) would wait for
each answer in turn: at 50 ms a call, a leave linked to ten groups took half a second before the
last group's mute. `each` runs them on a small pool of threads of the process's own and returns
their results in order, so the job waits about as long as its slowest piece.

- `each` and `both`: the calling thread runs the first item itself; the pool takes the rest.
  `as_done`: the pool takes them all, and the caller acts on each result as it comes.
- A piece runs in a copy of the caller's context (the update's log context, the Telegram
  client's last outcome). Pieces are meant to be Bot API calls (and the Redis they use); what
  the answers lead to in the database is done by the caller. A piece that queries all the same
  gets a connection of its own, closed when it ends: a pool thread holds no connection, so the
  pool's size costs PostgreSQL nothing.
- Work inside a piece that calls `each` again runs its items one after another: a pool thread
  never waits for the pool, so the pool cannot deadlock on itself.
- So does a caller inside a transaction (an atomic block): the pieces' own connections would not
  see its writes, and could wait on its locks while it waits for them.
- Every piece runs to its end; then the first exception raised, if any, is raised to the caller
  (the others are logged), as a loop would have stopped at it. The pieces must be safe to run
  again, as the job is when it is retried.
"""

from __future__ import annotations

import contextvars
import logging
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from typing import TypeVar, cast

from django.db import connection

from gmbot.env import envint

logger = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")
A = TypeVar("A")
B = TypeVar("B")

# Waiting threads cost no CPU and (see above) no database connection: wide enough for a leave
# of a channel linked to dozens of groups, with other jobs' pieces beside it.
THREADS = envint("FANOUT_THREADS", 32)


class _Pool:
    executor: ThreadPoolExecutor | None = None
    pid = 0
    lock = threading.Lock()


class _Inside(threading.local):
    piece = False


_inside = _Inside()


def each(work: Callable[[T], R], items: Sequence[T]) -> list[R]:
    """`[work(item) for item in items]`, the items run at once (see the module docstring)."""
    if not _at_once(items):
        return [work(item) for item in items]
    futures = _submit(work, items[1:])
    results: list[R] = []
    error: BaseException | None = None
    try:
        results.append(work(items[0]))
    except Exception as exc:
        error = exc
    for future in futures:
        try:
            results.append(future.result())
        except Exception as exc:
            if error is None:
                error = exc
            else:
                logger.warning("fanout: another piece failed too", exc_info=exc)
    if error is not None:
        raise error
    return results


def as_done(work: Callable[[T], R], items: Sequence[T]) -> Iterator[tuple[T, R]]:
    """`(item, work(item))` for each item, the items run at once, yielded as each is done: the
    caller acts on the first answer in while the others are still being asked, whichever item
    it is. An item that raised raises where it is yielded (wrap the work in `outcome` to go on
    to the others); pieces still running run to their end. Where the items may not run at once
    (the module docstring), they run one after another, in their order."""
    if not _at_once(items):
        yield from ((item, work(item)) for item in items)
        return
    futures = dict(zip(_submit(work, items), items, strict=True))
    for future in as_completed(futures):
        yield futures[future], future.result()


def both(first: Callable[[], A], second: Callable[[], B]) -> tuple[A, B]:
    """`(first(), second())`, the two run at once, as `each` runs its items (the caller runs
    `first` itself, so `first` may fan out in turn)."""
    a, b = each(_call, [first, second])
    return cast(A, a), cast(B, b)


def _call(work: Callable[[], R]) -> R:
    return work()


def outcome(work: Callable[[], R]) -> R | Exception:
    """`work()`'s result, or the exception it raised: for a piece whose error the caller handles
    where it handles its others (a group's lost rights, say), after every piece has run."""
    try:
        return work()
    except Exception as exc:
        return exc


def _at_once(items: Sequence[object]) -> bool:
    """Whether `each` and `as_done` may run these items at once (the module docstring: not from a
    piece, nor inside a transaction)."""
    return len(items) >= 2 and not _inside.piece and THREADS >= 1 and not connection.in_atomic_block


def _submit(work: Callable[[T], R], items: Sequence[T]) -> list[Future[R]]:
    pool = _executor()
    return [pool.submit(contextvars.copy_context().run, _piece, work, item) for item in items]


def _piece(work: Callable[[T], R], item: T) -> R:
    _inside.piece = True
    try:
        return work(item)
    finally:
        _inside.piece = False
        if connection.connection is not None:
            connection.close()


def _executor() -> ThreadPoolExecutor:
    """This process's pool (a forked child makes its own: threads do not survive a fork)."""
    if _Pool.executor is None or _Pool.pid != os.getpid():
        with _Pool.lock:
            if _Pool.executor is None or _Pool.pid != os.getpid():
                _Pool.executor = ThreadPoolExecutor(THREADS, thread_name_prefix="fanout")
                _Pool.pid = os.getpid()
    return _Pool.executor
