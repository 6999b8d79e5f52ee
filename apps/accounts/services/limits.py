"""Each user may send one bot ACCOUNTS_COMMAND_LIMIT commands in any ACCOUNTS_COMMAND_WINDOW_SECONDS
(SPEC D6), counted in Redis so every worker on every host shares the count.

One Lua script decides atomically, on Redis's clock: a sliding window of the user's accepted
commands (a sorted set, scored by time) and, once it is full, a refusal mark that lives until
the oldest command leaves the window. The first command over the limit sets the mark and gets
the one polite refusal; the others while it lasts get nothing at all. A refused command is not
counted, so it does not keep the window full. A command is a member of the set by its own id,
so a job that runs again (a retry, a redelivery) is not counted twice.

Redis down: commands are let through (a warning is logged); the limit protects the service, it
must not stop it.
"""

from __future__ import annotations

import logging
from enum import Enum

import redis
from django.conf import settings
from redis.commands.core import Script

from gmbot.redis import get_redis

logger = logging.getLogger(__name__)

# KEYS: the user's window, the refusal mark. ARGV: limit, window (ms), the command's id.
# Returns {verdict, ms until the window has room}: 1 go ahead, 0 refuse politely, -1 stay silent.
_SCRIPT = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local limit, window = tonumber(ARGV[1]), tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZSCORE', KEYS[1], ARGV[3]) then
  return {1, 0}
end
if redis.call('ZCARD', KEYS[1]) < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], window)
  return {1, 0}
end
local oldest = tonumber(redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2])
local wait = math.max(1, oldest + window - now)
if redis.call('SET', KEYS[2], '1', 'NX', 'PX', wait) then
  return {0, wait}
end
return {-1, wait}
"""


class Verdict(Enum):
    GO = 1
    REFUSE = 0  # the first command over the limit in this window: say so, do nothing
    SILENT = -1  # further commands while refused: do nothing, say nothing


_script: Script | None = None


def check_command(bot_id: int, user_id: int, command_id: str) -> tuple[Verdict, float]:
    """Count one command of the user with this bot; the verdict and the seconds until the window
    has room again. `command_id` names the command (its chat and message id, say) so that
    counting it again changes nothing."""
    global _script
    client = get_redis()
    if _script is None:
        _script = client.register_script(_SCRIPT)
    # One hash tag for both keys, so a Redis cluster keeps them in one slot for the script.
    tag = f"{{{bot_id}:{user_id}}}"
    keys = [f"gmbot:accounts:limit:{tag}", f"gmbot:accounts:refused:{tag}"]
    args: list[str | int] = [
        settings.ACCOUNTS_COMMAND_LIMIT,
        settings.ACCOUNTS_COMMAND_WINDOW_SECONDS * 1000,
        command_id,
    ]
    try:
        verdict, wait_ms = _script(keys=keys, args=args, client=client)
    except redis.RedisError as exc:
        logger.warning(
            "accounts: command limit unavailable (Redis: %s); command let through",
            type(exc).__name__,
        )
        return Verdict.GO, 0.0
    return Verdict(int(verdict)), int(wait_ms) / 1000
