"""Per-chat order: two updates of one chat are acted on in the order Telegram sent them.

Telegram delivers a chat's updates one at a time and in order, and the webhook queues each one
before it answers, so the `high` queue holds a chat's updates in order. A worker running several
jobs at once could still act on a later update before an earlier one is done: a join, then at
once a message from the same user, would be enforced as a message first. So the webhook's
claim-and-push script also appends the update id to its chat's line, `gmbot:line:<bot>:<chat>`,
in the same round trip (SPEC W4), and a job acts only once its update is at the head of its line
(`Turn.wait`); it leaves the line when it ends, done or failed (`Turn.leave`).

A job behind another does not poll: it blocks on a wake-up key of its own
(`gmbot:line:<bot>:<chat>:<update_id>`), and the job that leaves the head of the line pushes a
wake-up to the new head's key in the same script, so the next update of a chat starts a round
trip after the one before it ends (polling with backing-off sleeps made such a job wait 14 ms
on average at 1,000 updates/min, `bench/enforcement.py`'s "per-chat order" line).

Nothing holds a chat for long:
- A head that has not moved for WAIT_SECONDS is passed (removed from the line) by the job behind
  it: its worker died, or its job waits for a redelivery. When that job runs again it finds
  itself out of the line and runs at once. WAIT_SECONDS is far above a job's normal run time
  (milliseconds; a second or two at Telegram's worst latency) and far below Celery's hard limit.
- A job that fails leaves the line at once: its retry, after a countdown, runs whenever it runs.
- An update in no line (no chat, e.g. an inline button's callback; queued while Redis was down,
  or through another broker than the dedup Redis, whose claim and publish are two steps and
  put nothing in a line) runs at once. Without Redis a job runs at once too.
A line's key expires with the update's dedup key, so a line left behind by a lost job goes away;
a wake-up nobody took expires after WAKE_TTL_SECONDS.

A channel's member updates (`chat_member` in a channel: someone joined or left it) each concern
one member and nothing else of the channel, so each member of a channel has a line of their own,
`gmbot:line:<bot>:<chat>:member:<user>`: one member's join and leave keep their order, while
different members' leaves run side by side instead of one behind the other (a leave waits for
Telegram's answers in every linked group). A group's updates stay in one line: a join there,
then at once a message from the same user, are two kinds of update that must keep their order.
The one exception is a group's `chat_member` update made by the bot itself (its `from` is the
bot: the mute it just made, reported back): it changes no decision (the guard ignores it; the
observers record it by its update id), so it takes its member's line too. Otherwise each of the
bot's own restrictions came back while the job that made it still sent its warning, waited for
that job, and held the group's next update behind itself (at 10,000 updates/min, 2,667 of 12,741
jobs waited for their turn; with this, 1,037 of 12,701).
"""

from __future__ import annotations

import logging
import time
from typing import Any

import redis

from gmbot.redis import get_redis

logger = logging.getLogger(__name__)

WAIT_SECONDS = 10.0
# How long a waiting job blocks for its wake-up before it looks at its line (is the head stuck?):
# well under the Redis client's socket timeout (gmbot/redis.py), which a blocking call must not
# reach.
WAKE_POLL_SECONDS = 0.5
WAKE_TTL_SECONDS = 600

# Leave the line; when the leaver was its head, wake the new head. KEYS: the line, the leaver's
# own wake-up key. ARGV: the leaver's update id, the line's wake-up key prefix, WAKE_TTL_SECONDS.
# (The new head's key is built in the script: one Redis, not a cluster, holds the lines.)
_LEAVE = """
local was_head = redis.call('LINDEX', KEYS[1], 0) == ARGV[1]
redis.call('LREM', KEYS[1], 1, ARGV[1])
redis.call('DEL', KEYS[2])
if was_head then
    local head = redis.call('LINDEX', KEYS[1], 0)
    if head then
        redis.call('RPUSH', ARGV[2] .. head, '1')
        redis.call('EXPIRE', ARGV[2] .. head, ARGV[3])
    end
end
return 1
"""


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


def member_line_key(bot_id: int, chat_id: int, user_id: int) -> str:
    return f"{line_key(bot_id, chat_id)}:member:{user_id}"


def line_for(bot_id: int, bot_user_id: int | None, update: dict[str, Any]) -> str | None:
    """The line the webhook appends this update to, or None for an update with no chat.
    `bot_user_id`: the bot's own Telegram id (None when unknown: the chat's line)."""
    chat_id = chat_of(update)
    if chat_id is None:
        return None
    user_id = _lone_member(update.get("chat_member"), bot_user_id)
    if user_id is not None:
        return member_line_key(bot_id, chat_id, user_id)
    return line_key(bot_id, chat_id)


def _lone_member(change: Any, bot_user_id: int | None) -> int | None:
    """Whose membership a `chat_member` update changes, when it concerns that member alone: any
    in a channel, the bot's own doing in a group (the module docstring). None otherwise."""
    if not isinstance(change, dict):
        return None
    in_channel = (change.get("chat") or {}).get("type") == "channel"
    by_the_bot = bot_user_id is not None and (change.get("from") or {}).get("id") == bot_user_id
    if not (in_channel or by_the_bot):
        return None
    user_id = ((change.get("new_chat_member") or {}).get("user") or {}).get("id")
    return user_id if type(user_id) is int else None


class Turn:
    """One update's place in its chat's line, at the worker."""

    def __init__(self, key: str, update_id: int) -> None:
        self.key = key
        self.member = str(update_id)
        self.wake_key = _wake_key(key, self.member)

    @classmethod
    def of(cls, bot_id: int, bot_user_id: int | None, update: dict[str, Any]) -> Turn | None:
        key = line_for(bot_id, bot_user_id, update)
        return None if key is None else cls(key, update["update_id"])

    def ask_place(self, pipe: redis.client.Pipeline) -> None:
        """Queue the question "where am I in the line" on `pipe`; its answer goes to `wait`."""
        pipe.lpos(self.key, self.member)

    def wait(self, place: int | None) -> None:
        """Return once this update is at the head of its line, or in no line (see the module
        docstring for why this never waits for long). `place`: the answer to `ask_place`."""
        if not place:
            return  # at the head (0) or in no line (None)
        head, head_since = None, time.monotonic()
        client = get_redis()
        poll = min(WAKE_POLL_SECONDS, WAIT_SECONDS / 2)
        try:
            while True:
                if client.blpop([self.wake_key], timeout=poll) is not None:
                    return  # the update before this one left the head: this one is the head
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
                    # Only that id is removed (if it moved on meanwhile, nothing is), and the
                    # update after it is woken.
                    _leave_pipe(pipe, self.key, head.decode())
                    pipe.execute()
                    logger.warning(
                        "ordering: update %s held %s for %.0fs; passed it",
                        int(head), self.key, WAIT_SECONDS,
                    )  # fmt: skip
        except redis.RedisError:
            logger.warning("ordering: Redis unavailable, update %s runs unordered", self.member)

    def leave(self, pipe: redis.client.Pipeline) -> None:
        """Queue leaving the line, and waking the update after this one, on `pipe` (run with the
        job's last round trip)."""
        _leave_pipe(pipe, self.key, self.member)


def _wake_key(line: str, member: str) -> str:
    return f"{line}:{member}"


def _leave_pipe(pipe: redis.client.Pipeline, line: str, member: str) -> None:
    # EVAL, not a registered script: a pipeline holding one asks Redis whether it is loaded
    # first, a round trip more per job. Redis caches the compiled script by its text either way.
    pipe.eval(_LEAVE, 2, line, _wake_key(line, member), member, f"{line}:", WAKE_TTL_SECONDS)
