"""Telegram errors, classified once into a few picklable exception classes (SPEC T3).

pyTelegramBotAPI's ApiTelegramException carries a Response and does not survive Celery's result
and retry machinery; these carry only plain values, so they pickle and serialize cleanly.

What a caller (a task, a service) does with each class:
- `RetryAfter`: try again after exactly `retry_after` seconds (a 429, or our own budget being full).
- `TransientError`: try again with exponential backoff and jitter (5xx, timeouts, connection
  errors).
- `OutcomeUnknown`: no answer in time to a call that must not be repeated blindly (a send):
  Telegram may have acted on it or not; do not retry (apps/telegram/outcomes.py).
- `Unreachable`: the chat or user can no longer be reached (kicked, blocked, deactivated); it has
  been marked so; do not retry.
- `BadRequest`: Telegram refused the request; `reason` names why (see REASONS); do not retry.
- `ChatMigrated`: the group became a supergroup; the client follows it itself, so callers only
  see it when the repeated call failed too.

Every value lives in `args`, in the order of the constructor's parameters: pickle rebuilds an
exception as `cls(*args)`, and so does Celery's JSON result serializer, so nothing is lost.
"""

from __future__ import annotations

from typing import Any


class TelegramError(Exception):
    """Base class. `description` is Telegram's own text, kept exactly."""

    def __init__(
        self,
        description: str,
        method: str = "",
        error_code: int | None = None,
        chat_id: int | str | None = None,
    ) -> None:
        super().__init__(description, method, error_code, chat_id)
        self.description = description
        self.method = method
        self.error_code = error_code
        self.chat_id = chat_id

    def _extend_args(self, *extra: Any) -> None:
        self.args = (*self.args, *extra)

    def __str__(self) -> str:
        where = f"{self.method}: " if self.method else ""
        return f"{where}{self.description}"


class RetryAfter(TelegramError):
    """Too many requests: try again after `retry_after` seconds."""

    def __init__(
        self,
        description: str,
        method: str = "",
        error_code: int | None = None,
        chat_id: int | str | None = None,
        retry_after: float = 1,
    ) -> None:
        super().__init__(description, method, error_code, chat_id)
        self.retry_after = retry_after
        self._extend_args(retry_after)


class RateLimited(RetryAfter):
    """Our own shared budget (not Telegram) says wait longer than is worth blocking a worker."""


class TransientError(TelegramError):
    """5xx, timeout or connection error: worth another try after a backoff."""


class OutcomeUnknown(TelegramError):
    """The call reached Telegram but its answer did not come in time, and repeating it could do
    it twice (a second message): not retried, so an operator can check and replay."""


class _Refused(TelegramError):
    """An answer Telegram gave for good, named by `reason` (DEFAULT_REASON when unrecognised)."""

    DEFAULT_REASON = ""

    def __init__(
        self,
        description: str,
        method: str = "",
        error_code: int | None = None,
        chat_id: int | str | None = None,
        reason: str | None = None,
    ) -> None:
        super().__init__(description, method, error_code, chat_id)
        self.reason = reason or self.DEFAULT_REASON
        self._extend_args(self.reason)


class Unreachable(_Refused):
    """Forbidden: the bot was kicked or blocked, or the user or chat is gone.

    `reason` is one of FORBIDDEN_REASONS' values, or 'forbidden'."""

    DEFAULT_REASON = "forbidden"


class BadRequest(_Refused):
    """A request Telegram refused; `reason` is one of REASONS' values, or 'bad_request'."""

    DEFAULT_REASON = "bad_request"


class ChatMigrated(TelegramError):
    """The group was upgraded to a supergroup with a new id."""

    def __init__(
        self,
        description: str,
        method: str = "",
        error_code: int | None = None,
        chat_id: int | str | None = None,
        new_chat_id: int = 0,
    ) -> None:
        super().__init__(description, method, error_code, chat_id)
        self.new_chat_id = new_chat_id
        self._extend_args(new_chat_id)


# Telegram's "Bad Request" descriptions, word for word (sandbox/errors.py spells the same), and
# the names the rest of the code branches on. Descriptions Telegram formats a value into are
# matched by prefix in REASON_PREFIXES.
REASONS: dict[str, str] = {
    "Bad Request: message to delete not found": "already_deleted",
    # Both "not ours and no right to delete" and "too old": the caller knows which from context.
    "Bad Request: message can't be deleted": "cant_delete",
    "Bad Request: message can't be deleted for everyone": "too_old",
    "Bad Request: message to edit not found": "message_not_found",
    "Bad Request: message to copy not found": "message_not_found",
    "Bad Request: message to forward not found": "message_not_found",
    "Bad Request: message to be replied not found": "message_not_found",
    "Bad Request: MESSAGE_ID_INVALID": "message_not_found",
    "Bad Request: message can't be edited": "cant_edit",
    "Bad Request: message can't be copied": "cant_copy",
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message": "message_not_modified",
    "Bad Request: chat not found": "chat_not_found",
    "Bad Request: chat_id is empty": "chat_not_found",
    "Bad Request: user not found": "user_not_found",
    "Bad Request: invalid user_id specified": "user_not_found",
    "Bad Request: PARTICIPANT_ID_INVALID": "user_not_found",
    "Bad Request: USER_NOT_PARTICIPANT": "user_not_participant",
    "Bad Request: CHAT_ADMIN_REQUIRED": "not_enough_rights",
    "Bad Request: need administrator rights in the channel chat": "not_enough_rights",
    "Bad Request: have no rights to send a message": "not_enough_rights",
    "Bad Request: user is an administrator of the chat": "user_is_admin",
    "Bad Request: can't remove chat owner": "user_is_admin",
    "Bad Request: can't restrict self": "user_is_admin",
    "Bad Request: USER_ALREADY_PARTICIPANT": "already_participant",
    "Bad Request: HIDE_REQUESTER_MISSING": "join_request_missing",
    "Bad Request: query is too old and response timeout expired or query ID is invalid": (
        "query_too_old"
    ),
    "Bad Request: member list is inaccessible": "member_list_inaccessible",
    "Bad Request: method is available only for supergroups": "wrong_chat_type",
    "Bad Request: method is available for supergroup and channel chats only": "wrong_chat_type",
    "Bad Request: there are no administrators in the private chat": "wrong_chat_type",
    "Bad Request: chat member status can't be changed in private chats": "wrong_chat_type",
    "Bad Request: message text is empty": "invalid_message",
    "Bad Request: message is too long": "invalid_message",
    "Bad Request: message caption is too long": "invalid_message",
    "Bad Request: BUTTON_DATA_INVALID": "invalid_message",
    "Bad Request: group chat was upgraded to a supergroup chat": "chat_migrated",
    # allow_paid_broadcast with less than 0.1 Star left on the bot's balance.
    "Bad Request: BALANCE_TOO_LOW": "balance_too_low",
}
REASON_PREFIXES: tuple[tuple[str, str], ...] = (
    ("Bad Request: not enough rights", "not_enough_rights"),
    ("Bad Request: can't parse", "invalid_message"),
    ("Bad Request: wrong file identifier", "invalid_message"),
)

# Forbidden (403) descriptions: why the chat or user cannot be reached.
FORBIDDEN_REASONS: tuple[tuple[str, str], ...] = (
    ("Forbidden: bot was blocked by the user", "blocked"),
    ("Forbidden: bot was kicked from", "kicked"),
    ("Forbidden: bot is not a member of", "not_member"),
    ("Forbidden: user is deactivated", "deactivated"),
    ("Forbidden: bot can't initiate conversation with a user", "not_started"),
    ("Forbidden: bot can't send messages to bots", "is_bot"),
)

# Answers that mean the call's aim is already met: the client returns success (True) for them and
# records the reason as the call's outcome (see client.last_outcome) instead of raising.
ALREADY_DONE: dict[str, frozenset[str]] = {
    "deleteMessage": frozenset({"already_deleted"}),
    "approveChatJoinRequest": frozenset({"already_participant"}),
    "editMessageText": frozenset({"message_not_modified"}),
    "editMessageCaption": frozenset({"message_not_modified"}),
    "editMessageMedia": frozenset({"message_not_modified"}),
    "editMessageReplyMarkup": frozenset({"message_not_modified"}),
}


def reason_for(description: str) -> str:
    """The named reason of a Bad Request description, 'bad_request' when not a known one."""
    reason = REASONS.get(description)
    if reason is not None:
        return reason
    for prefix, name in REASON_PREFIXES:
        if description.startswith(prefix):
            return name
    return "bad_request"


def forbidden_reason_for(description: str) -> str:
    for prefix, name in FORBIDDEN_REASONS:
        if description.startswith(prefix):
            return name
    return "forbidden"
