"""Which task and queue take an update, decided from its top-level keys alone (SPEC W3).

This table is the one place that says what GMBot can listen to: any other kind is answered,
counted and dropped. `setwebhook` asks Telegram, for each bot, for the kinds of this table that
its features need (`allowed_updates`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

from celeryconfig import HIGH


class Route(NamedTuple):
    task: str
    queue: str


PROCESS_UPDATE = "tasks.high.process_update"

ROUTES: dict[str, Route] = {
    # Commands, private chats, group messages and service messages (new members, migration).
    "message": Route(PROCESS_UPDATE, HIGH),
    # A non-subscriber may edit a message into something to enforce.
    "edited_message": Route(PROCESS_UPDATE, HIGH),
    "callback_query": Route(PROCESS_UPDATE, HIGH),
    "chat_join_request": Route(PROCESS_UPDATE, HIGH),
    # Someone joined or left a group or an enforced channel.
    "chat_member": Route(PROCESS_UPDATE, HIGH),
    # The bot itself was added, promoted, demoted or removed.
    "my_chat_member": Route(PROCESS_UPDATE, HIGH),
}

ALLOWED_UPDATES: list[str] = list(ROUTES)


def allowed_updates(kinds: Iterable[str]) -> list[str]:
    """What to ask Telegram for: the wanted kinds that are routed, in this table's order."""
    wanted = set(kinds)
    return [kind for kind in ROUTES if kind in wanted]


def update_kind(update: dict[str, Any]) -> str:
    """The update's kind: its one key besides `update_id` (Telegram sends exactly one)."""
    for key in update:
        if key != "update_id":
            return key
    return ""


def route(update: dict[str, Any]) -> Route | None:
    return ROUTES.get(update_kind(update))
