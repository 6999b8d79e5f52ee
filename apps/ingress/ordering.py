"""Per-chat order: two updates of one chat are acted on in the order Telegram sent them.

Telegram delivers a chat's updates one at a time and in order, and the webhook queues each one
before it answers, so the `high` queue holds a chat's updates in order. A worker running several
jobs at once could still act on a later update before an earlier one is done: a join, then at
once a message from the same user, would be enforced as a message first. So the webhook's
claim-and-push script also appends the update id to its chat's line, `gmbot:line:<bot>:<chat>`,
in the same round trip (SPEC W4), and a job acts only once its update is at the head of its line
(`Turn.wait`); it leaves the line when it ends, done or failed (`Turn.leave`).

Nothing holds a chat for long:
- A head that has not moved for WAIT_SECONDS is passed (removed from the line) by the job behind
  it: its worker died, or its job waits for a redelivery. When that job runs again it finds
  itself out of the line and runs at once. WAIT_SECONDS is far above a job's normal run time
  (milliseconds; a second or two at Telegram's worst latency) and far below Celery's hard limit.
- A job that fails leaves the line at once: its retry, after a countdown, runs whenever it runs.
- An update in no line (no chat, e.g. an inline button's callback; queued while Redis was down,
  or through another broker than the dedup Redis, whose claim and publish are two steps and
  put nothing in a line) runs at once. Without Redis a job runs at once too.
A line's key expires with the update's dedup key, so a line left behind by a lost job goes away.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import redis

from gmbot.redis import get_redis

logger = logging.getLogger(__name__)

WAIT_SECONDS = 10.0
# How often a waiting job looks at its line: soon at first (the head is usually a job of a few
# milliseconds), then less often so a long wait costs Redis little.
FIRST_POLL, LAST_POLL = 0.002, 0.02


def line_key(bot_id: int, chat_id: int) -> str:
    return f"gmbot:line:{bot_id}:{chat_id}"


def chat_of(update: dict[str, Any]) -> int | None:
    """The chat an update belongs to: the chat of a message, a member change or a join request,
    the chat of the message under a pressed button. None when it has none."""
    for key, part in update.items():
        if key == "update_id" or not isinstance(part, dict):
            continue
        chat = part.get("chat") or (part.get("message") or {}).get("chat") or {}
        chat_id = chat.get("id")
        return chat_id if type(chat_id) is int else None
    return None


def line_for(bot_id: int, update: dict[str, Any]) -> str | None:
    """The line the webhook appends this update to, or None for an update with no chat."""
    chat_id = chat_of(update)
    return None if chat_id is None else line_key(bot_id, chat_id)


class Turn:
    """One update's place in its chat's line, at the worker."""

    def __init__(self, key: str, update_id: int) -> None:
        self.key = key
        self.member = str(update_id)

    @classmethod
    def of(cls, bot_id: int, update: dict[str, Any]) -> Turn | None:
        key = line_for(bot_id, update)
        return None if key is None else cls(key, update["update_id"])

    def ask_place(self, pipe: redis.client.Pipeline) -> None:
        """Queue the question "where am I in the line" on `pipe`; its answer goes to `wait`."""
        pipe.lpos(self.key, self.member)

    def wait(self, place: int | None) -> None:
        """Return once this update is at the head of its line, or in no line (see the module
        docstring for why this never waits for long). `place`: the answer to `ask_place`."""
        if not place:
            return  # at the head (0) or in no line (None)
        delay, head, head_since = FIRST_POLL, None, time.monotonic()
        client = get_redis()
        try:
            while True:
                time.sleep(delay)
                delay = min(2 * delay, LAST_POLL)
                pipe = client.pipeline(transaction=False)
                pipe.lpos(self.key, self.member)
                pipe.lindex(self.key, 0)
                place, first = pipe.execute()
                if not place:
                    return
                now = time.monotonic()
                if first != head:
                    head, head_since = first, now
                elif head is not None and now - head_since > WAIT_SECONDS:
                    # Only that id is removed: if it moved on meanwhile, nothing is.
                    client.lrem(self.key, 1, head)
                    logger.warning(
                        "ordering: update %s held %s for %.0fs; passed it",
                        int(head), self.key, WAIT_SECONDS,
                    )  # fmt: skip
        except redis.RedisError:
            logger.warning("ordering: Redis unavailable, update %s runs unordered", self.member)

    def leave(self, pipe: redis.client.Pipeline) -> None:
        """Queue leaving the line on `pipe` (run with the job's last round trip)."""
        pipe.lrem(self.key, 1, self.member)
