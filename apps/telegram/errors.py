"""Telegram errors, classified once into a few picklable exception classes (SPEC T3).

pyTelegramBotAPI's ApiTelegramException carries a Response and does not survive Celery's result
and retry machinery; these carry only plain values, so they pickle and serialize cleanly.

What a caller (a task, a service) does with each class:
- `RetryAfter`: try again after exactly `retry_after` seconds (a 429, or our own budget being full).
- `TransientError`: try again with exponential backoff and jitter (5xx, timeouts, connection errors).
- `Unreachable`: the chat or user can no longer be reached (kicked, blocked, deactivated); it has
  been marked so; do not retry.
- `BadRequest`: Telegram refused the request; `reason` names why (see REASONS); do not retry.
- `ChatMigrated`: the group became a supergroup; the client follows it itself, so callers only
  see it when the repeated call failed too.
"""

from __future__ import annotations

from typing import Any


class TelegramError(Exception):
    """Base class. `description` is Telegram's own text, kept exactly."""

    def __init__(
        self,
        description: str,
        *,
        method: str = "",
        error_code: int | None = None,
        chat_id: int | str | None = None,
    ) -> None:
        super().__init__(description)
        self.description = description
        self.method = method
        self.error_code = error_code
        self.chat_id = chat_id

    def _state(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "error_code": self.error_code,
            "chat_id": self.chat_id,
        }

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.description, self._state()))

    def __str__(self) -> str:
        where = f"{self.method}: " if self.method else ""
        return f"{where}{self.description}"


def _rebuild(cls: type[TelegramError], description: str, state: dict[str, Any]) -> TelegramError:
    return cls(description, **state)


class RetryAfter(TelegramError):
    """Too many requests: try again after `retry_after` seconds."""

    def __init__(self, description: str, *, retry_after: float, **kwargs: Any) -> None:
        super().__init__(description, **kwargs)
        self.retry_after = retry_after

    def _state(self) -> dict[str, Any]:
        return {**super()._state(), "retry_after": self.retry_after}


class RateLimited(RetryAfter):
    """Our own shared budget (not Telegram) says wait longer than is worth blocking a worker."""


class TransientError(TelegramError):
    """5xx, timeout or connection error: worth another try after a backoff."""


class Unreachable(TelegramError):
    """Forbidden: the bot was kicked or blocked, or the user or chat is gone."""


class BadRequest(TelegramError):
    """A request Telegram refused; `reason` is one of REASONS' values, or 'bad_request'."""

    def __init__(self, description: str, *, reason: str = "bad_request", **kwargs: Any) -> None:
        super().__init__(description, **kwargs)
        self.reason = reason

    def _state(self) -> dict[str, Any]:
        return {**super()._state(), "reason": self.reason}


class ChatMigrated(TelegramError):
    """The group was upgraded to a supergroup with a new id."""

    def __init__(self, description: str, *, new_chat_id: int, **kwargs: Any) -> None:
        super().__init__(description, **kwargs)
        self.new_chat_id = new_chat_id

    def _state(self) -> dict[str, Any]:
        return {**super()._state(), "new_chat_id": self.new_chat_id}
