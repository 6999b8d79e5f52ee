"""Injected failures: make a method answer an error, or slowly, a given number of times."""

from __future__ import annotations

import random
from typing import Any


class Fault:
    def __init__(self, spec: dict[str, Any]) -> None:
        self.method = str(spec.get("method") or "*").lower()
        self.bot = spec.get("bot")
        # Only calls about this chat (chat_id), when given: one group refusing, others not.
        self.chat_id = int(spec["chat_id"]) if spec.get("chat_id") is not None else None
        self.error_code = int(spec.get("error_code") or 0)
        self.description = spec.get("description") or ""
        self.times = spec.get("times")
        self.probability = float(spec.get("probability") or 1.0)
        self.delay_ms = float(spec.get("delay_ms") or 0)
        self.retry_after = spec.get("retry_after")
        self.parameters = spec.get("parameters")

    def matches(self, method: str, bot_names: tuple[str, ...], chat_id: int | None = None) -> bool:
        if self.times is not None and self.times <= 0:
            return False
        if self.method not in ("*", method):
            return False
        if self.chat_id is not None and self.chat_id != chat_id:
            return False
        if self.bot is not None and str(self.bot).lstrip("@").lower() not in bot_names:
            return False
        return random.random() < self.probability

    def as_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "bot": self.bot,
            "chat_id": self.chat_id,
            "error_code": self.error_code,
            "description": self.description,
            "times": self.times,
            "probability": self.probability,
            "delay_ms": self.delay_ms,
            "retry_after": self.retry_after,
        }
