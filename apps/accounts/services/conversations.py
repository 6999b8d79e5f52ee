"""Conversations: a few questions and answers in a private chat, their state in Redis (SPEC D7).

One conversation per user and bot, under `gmbot:accounts:conversation:<bot>:<user>`, as JSON
(which flow, which step, what was answered so far), kept ACCOUNTS_CONVERSATION_SECONDS (24 h)
from the last answer. Any worker can take the next answer, and a worker that restarts loses
nothing. /cancel ends it. Nothing secret is ever kept here: /clone asks for its token last and
uses it in the job that received it (apps/accounts/services/clones.py).

Redis down: a conversation cannot start or go on; the user is told to try again shortly.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import redis
from django.conf import settings

from gmbot.redis import get_redis


class ConversationUnavailable(Exception):
    """Redis cannot keep the conversation now."""


@dataclass
class Conversation:
    flow: str  # "clone"
    step: str
    data: dict[str, Any] = field(default_factory=dict)


def _key(bot_id: int, user_id: int) -> str:
    return f"gmbot:accounts:conversation:{bot_id}:{user_id}"


def save(bot_id: int, user_id: int, conversation: Conversation) -> None:
    """Start the conversation, or record its next step; it lives 24 h from now."""
    value = json.dumps(
        {"flow": conversation.flow, "step": conversation.step, "data": conversation.data}
    )
    try:
        get_redis().set(_key(bot_id, user_id), value, ex=settings.ACCOUNTS_CONVERSATION_SECONDS)
    except redis.RedisError as exc:
        raise ConversationUnavailable(type(exc).__name__) from None


def current(bot_id: int, user_id: int) -> Conversation | None:
    """The user's conversation with the bot, or None (none started, ended, or expired)."""
    try:
        raw = get_redis().get(_key(bot_id, user_id))
    except redis.RedisError as exc:
        raise ConversationUnavailable(type(exc).__name__) from None
    if raw is None:
        return None
    value = json.loads(raw)
    return Conversation(value["flow"], value["step"], value.get("data") or {})


def end(bot_id: int, user_id: int) -> bool:
    """End the user's conversation; True when there was one."""
    try:
        return bool(get_redis().delete(_key(bot_id, user_id)))
    except redis.RedisError as exc:
        raise ConversationUnavailable(type(exc).__name__) from None
