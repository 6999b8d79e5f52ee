"""What to do about a Bot API call whose answer did not come in time, per kind of call (SPEC T3).

A read timeout is an unknown outcome: the request reached Telegram, which may have acted on it
(and the answer was lost) or not. Whether the call may be made again depends on what a second
call does:

- A call that sets a state or reads one (restrictChatMember, banChatMember, unbanChatMember,
  deleteMessage, approveChatJoinRequest, editMessageText, getChatMember, ...) ends where the
  first one would have: repeating it is safe. It raises TransientError and is retried with
  backoff like a 5xx.
- A call that creates something each time it succeeds (sendMessage and the other send methods,
  copyMessage, forwardMessage, createChatInviteLink) would create it twice. Telegram has no
  idempotency key, and a bot cannot read a chat back to check, so it is not repeated: it raises
  OutcomeUnknown and the job becomes a dead letter that an operator may replay.

A connect timeout is not an unknown outcome (nothing reached Telegram) and is retried as any
transient error. Every read timeout is counted in counters.TELEGRAM_UNKNOWN_OUTCOMES as
"<method>:repeated" or "<method>:not_repeated".
"""

from __future__ import annotations

from apps.telegram.errors import OutcomeUnknown, TelegramError, TransientError
from gmbot import counters

# Bot API methods that create something new on every call, by their names' first word.
_CREATING = ("send", "copy", "forward", "create")


def is_safe_to_repeat(method: str) -> bool:
    """Whether a second `method` call ends where the first would have."""
    return not method.startswith(_CREATING)


def after_read_timeout(method: str, chat_id: int | str | None) -> TelegramError:
    """The error a call that got no answer in time raises, counted by what follows it."""
    if is_safe_to_repeat(method):
        counters.add(counters.TELEGRAM_UNKNOWN_OUTCOMES, f"{method}:repeated")
        return TransientError(
            "Timeout: no answer from the Bot API in time; safe to repeat", method, None, chat_id
        )
    counters.add(counters.TELEGRAM_UNKNOWN_OUTCOMES, f"{method}:not_repeated")
    return OutcomeUnknown(
        f"Timeout: no answer from the Bot API in time. Telegram may have done this {method} or "
        "not, and repeating it could do it twice: check the chat, then replay or discard.",
        method,
        None,
        chat_id,
    )
