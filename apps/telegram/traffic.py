"""Which budget a Telegram call draws on: interactive (the default) or bulk.

Bulk work (broadcasts, kicking, batch checks) runs inside `bulk_traffic()`, so its calls must also
pass the bulk budget and interactive calls always find room in the bot's overall budget.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_bulk: ContextVar[bool] = ContextVar("telegram_bulk_traffic", default=False)


@contextmanager
def bulk_traffic(enabled: bool = True) -> Iterator[None]:
    token = _bulk.set(enabled)
    try:
        yield
    finally:
        _bulk.reset(token)


def is_bulk() -> bool:
    return _bulk.get()
