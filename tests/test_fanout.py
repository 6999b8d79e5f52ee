"""gmbot/fanout.py: a job's independent waits run at once, in order, errors raised, no deadlock."""

from __future__ import annotations

import threading
import time

import pytest
import structlog
from django.db import connection

from gmbot import fanout


def test_the_pieces_run_at_once_and_their_results_keep_the_items_order() -> None:
    started = time.monotonic()

    results = fanout.each(lambda n: (time.sleep(0.2), n * n)[1], [1, 2, 3, 4])

    assert results == [1, 4, 9, 16]
    assert time.monotonic() - started < 0.6  # one after another: 0.8 s


def test_both_runs_two_different_pieces_at_once_and_the_first_may_fan_out_again() -> None:
    # Each piece waits for the others to have started: run one after another, they time out.
    second_started, inner_started = threading.Event(), threading.Event()

    def inner(n: int) -> tuple[int, bool]:
        inner_started.set()
        return n, second_started.wait(5)

    def first() -> list[tuple[int, bool]]:
        # the caller runs `first` itself, so its own fan-out uses the pool
        return fanout.each(inner, [1, 2])

    def second() -> bool:
        second_started.set()
        return inner_started.wait(5)

    assert fanout.both(first, second) == ([(1, True), (2, True)], True)


def test_as_done_yields_each_answer_as_it_is_in_whichever_item_it_is() -> None:
    # Each item waits until the answer before it in the expected order has been taken: yielded
    # in the items' order, or all at the end, it fails.
    second_taken, first_taken = threading.Event(), threading.Event()

    def work(n: int) -> int | Exception:
        if n == 1:
            return 1 if second_taken.wait(5) else -1
        if n == 3:
            return fanout.outcome(lambda: 1 // 0) if first_taken.wait(5) else -3
        return n

    results = fanout.as_done(work, [1, 2, 3])
    assert next(results) == (2, 2)
    second_taken.set()
    assert next(results) == (1, 1)
    first_taken.set()
    item, error = next(results)
    assert item == 3 and isinstance(error, ZeroDivisionError)
    assert list(results) == []


def test_the_first_error_is_raised_once_every_piece_has_run() -> None:
    ran: list[int] = []

    def work(n: int) -> int:
        time.sleep(0.05 * n)
        ran.append(n)
        if n in (2, 3):
            raise ValueError(f"piece {n}")
        return n

    with pytest.raises(ValueError, match="piece 2"):
        fanout.each(work, [1, 2, 3, 4])
    assert sorted(ran) == [1, 2, 3, 4]


def test_a_piece_that_fans_out_again_runs_its_items_in_its_own_thread() -> None:
    threads: set[str] = set()

    def inner(_: int) -> None:
        threads.add(threading.current_thread().name)

    def outer(n: int) -> int:
        fanout.each(inner, [1, 2, 3])
        return n

    # More outer pieces than the pool has threads: nested waits on the pool would deadlock.
    assert fanout.each(outer, list(range(3 * fanout.THREADS))) == list(range(3 * fanout.THREADS))


@pytest.mark.django_db
def test_inside_a_transaction_the_pieces_run_in_the_callers_thread() -> None:
    caller = threading.current_thread().name

    threads = fanout.each(lambda _: threading.current_thread().name, [1, 2, 3])

    assert threads == [caller] * 3  # a test's transaction: the pieces see what it wrote


def test_a_piece_sees_the_callers_log_context() -> None:
    structlog.contextvars.bind_contextvars(update_id=77)
    try:
        seen = fanout.each(
            lambda _: structlog.contextvars.get_contextvars().get("update_id"), [1, 2, 3]
        )
    finally:
        structlog.contextvars.unbind_contextvars("update_id")

    assert seen == [77, 77, 77]


@pytest.mark.django_db(transaction=True)
def test_a_piece_that_queries_leaves_its_pool_thread_without_a_database_connection() -> None:
    def query(_: int) -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return int(cursor.fetchone()[0])

    assert fanout.each(query, [1, 2, 3, 4]) == [1, 1, 1, 1]

    # the pool's threads hold no connection afterwards (the first item ran in the caller's)
    holding = fanout.each(lambda _: connection.connection is not None, list(range(8)))
    assert holding[1:] == [False] * 7
