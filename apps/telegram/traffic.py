"""Which budget a Telegram call draws on: interactive (the default) or bulk, and paid.

Bulk work (broadcasts, kicking, batch checks) runs inside `bulk_traffic()`, so its calls must also
pass the bulk budget and interactive calls always find room in the bot's overall budget.

A paid broadcast runs inside `paid_traffic(rate)` as well: its messages go with
`allow_paid_broadcast`, which Telegram lets past the bot-wide limit, so they draw on a budget of
`rate` messages a second (the bot's configured paid rate, at most 1,000) instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_bulk: ContextVar[bool] = ContextVar("telegram_bulk_traffic", default=False)
_paid: ContextVar[int] = ContextVar("telegram_paid_rate", default=0)


@contextmanager
def bulk_traffic(enabled: bool = True) -> Iterator[None]:
    token = _bulk.set(enabled)
    try:
        yield
    finally:
        _bulk.reset(token)


def is_bulk() -> bool:
    return _bulk.get()


@contextmanager
def paid_traffic(rate: int) -> Iterator[None]:
    """Messages sent inside draw on a paid budget of `rate` a second (0: none, the usual ones)."""
    token = _paid.set(max(0, rate))
    try:
        yield
    finally:
        _paid.reset(token)


def paid_rate() -> int:
    return _paid.get()
