"""Reading budgets back from the sandbox's call log."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

# The sandbox stamps a call when it answers it, a little after our budget reserved its slot; two
# calls a window apart in Redis may land up to this much closer together in the log.
JITTER = 0.02


def most_in_any_window(times: Iterable[float], window: float) -> int:
    """The largest number of calls inside any window (t - window, t]."""
    ordered = sorted(times)
    most, first = 0, 0
    for last, at in enumerate(ordered):
        while ordered[first] <= at - window:
            first += 1
        most = max(most, last - first + 1)
    return most


def kept(calls: list[dict[str, Any]], limit: int, window: float) -> bool:
    """Whether these calls kept a budget of `limit` calls per `window` seconds."""
    return most_in_any_window((call["time"] for call in calls), window - JITTER) <= limit
