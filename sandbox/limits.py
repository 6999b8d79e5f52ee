"""Runtime settings and Telegram's flood limits, as token buckets per bot and per chat."""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, fields
from typing import Any


@dataclass
class Settings:
    """Everything `POST /_sandbox/limits` can change. Durations are in seconds and, except
    `webhook_timeout`, are divided by `time_scale` (time_scale=10 makes a 1 s window 0.1 s)."""

    enabled: bool = True
    time_scale: float = 1.0
    global_per_second: float = 30.0
    global_burst: int = 30
    group_per_minute: float = 20.0
    group_burst: int = 20
    private_per_second: float = 1.0
    private_burst: int = 3
    # Messages sent with allow_paid_broadcast: up to 1,000 a second per bot (api.json), in place
    # of the bot-wide limit; the per-chat limits still apply.
    paid_per_second: float = 1000.0
    paid_burst: int = 1000
    webhook_timeout: float = 10.0
    webhook_backoff_initial: float = 1.0
    webhook_backoff_cap: float = 60.0
    callback_query_ttl: float = 15.0
    allow_http_webhooks: bool = True

    def update(self, values: dict[str, Any]) -> None:
        known = {f.name: f.type for f in fields(self)}
        for key, value in values.items():
            if key not in known:
                raise KeyError(key)
            current = getattr(self, key)
            if isinstance(current, bool):
                value = value if isinstance(value, bool) else str(value).lower() in ("1", "true")
            elif isinstance(current, int):
                value = int(value)
            else:
                value = float(value)
            setattr(self, key, value)
        if self.time_scale <= 0:
            raise ValueError("time_scale must be positive")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def scaled(self, seconds: float) -> float:
        return seconds / self.time_scale


class Limiter:
    """Token buckets: `burst` calls at once, then `rate` per second (times time_scale)."""

    def __init__(self, settings: Settings, clock: Any = time.monotonic) -> None:
        self.settings = settings
        self.clock = clock
        self._buckets: dict[Any, list[float]] = {}

    def reset(self) -> None:
        self._buckets.clear()

    def _take(self, key: Any, rate: float, burst: int, at: float) -> float:
        """Take one token; 0.0 when granted, else the seconds until one is available."""
        rate *= self.settings.time_scale
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = [float(burst), at]
        tokens = min(float(burst), bucket[0] + (at - bucket[1]) * rate)
        bucket[1] = at
        if tokens >= 1.0:
            bucket[0] = tokens - 1.0
            return 0.0
        bucket[0] = tokens
        return (1.0 - tokens) / rate

    def check(
        self, bot_id: int, chat_id: int | None, chat_type: str | None, paid: bool = False
    ) -> int:
        """0 when the call may proceed, otherwise the retry_after (whole seconds) to answer.
        `paid`: sent with allow_paid_broadcast, so the paid rate replaces the bot-wide one."""
        settings = self.settings
        if not settings.enabled:
            return 0
        at = self.clock()
        if paid:
            key: Any = (bot_id, "paid")
            wait = self._take(key, settings.paid_per_second, settings.paid_burst, at)
        else:
            key = bot_id
            wait = self._take(key, settings.global_per_second, settings.global_burst, at)
        if wait == 0.0 and chat_id is not None and chat_type is not None:
            if chat_type == "private":
                wait = self._take(
                    (bot_id, chat_id), settings.private_per_second, settings.private_burst, at
                )
            else:
                wait = self._take(
                    (bot_id, chat_id),
                    settings.group_per_minute / 60.0,
                    settings.group_burst,
                    at,
                )
            if wait:
                # The refused call does not spend the bot's global (or paid) token.
                self._buckets[key][0] += 1.0
        if wait == 0.0:
            return 0
        return max(1, math.ceil(wait))
