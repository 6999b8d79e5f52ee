"""Call budgets shared by every process on every host, kept in Redis (SPEC T2).

Each budget allows at most `limit` calls in any window of `window` seconds (a sliding window, so
"20 per minute" means no minute ever holds 21):
- per bot, for the methods that send a message: Telegram's limit of about 30 messages a second
  per bot counts messages, not other calls;
- per bot, every call but getUpdates (a long poll): a higher ceiling of our own, since Telegram
  publishes no figure for the other methods, so a loop gone wrong cannot hammer the API;
- per group or channel (chat id < 0 or an @username) and per private chat (chat id > 0), for the
  methods that send a message;
- the bulk share, for every call made inside `apps.telegram.traffic.bulk_traffic()`, on top of
  the others, so bulk work can never take the whole bot budget and interactive calls find room;
- for bulk messages, a spacing per chat (one message per 3 s in a group, per 1 s in a private
  chat, between bulk messages to that chat), so a broadcast never lands twice in a row in a chat;
- paid messages (inside `traffic.paid_traffic(rate)`, sent with allow_paid_broadcast, which
  Telegram lets past its bot-wide limit) draw on a paid budget of `rate` a second instead of the
  bot, calls and bulk budgets; the per-chat budgets still apply.

One Lua script checks every budget that applies to a call and reserves a slot in all of them at
the same instant, atomically and on Redis's clock (no host clock has to agree with another). A
call whose slot is at most TELEGRAM_BUDGET_MAX_WAIT_MS away sleeps until it and proceeds; a later
slot is not reserved and the call raises `RateLimited(retry_after=...)`, which a task turns into
a retry with that countdown instead of holding a worker.

Redis unavailable: the call proceeds without budgets (Telegram's own 429 still protects us) and a
warning is logged, at most once per REDIS_RETRY_SECONDS while it lasts.
"""

from __future__ import annotations

import logging
import math
import os
import time
from dataclasses import dataclass

import redis
from django.conf import settings
from redis.commands.core import Script

from apps.telegram.errors import RateLimited
from apps.telegram.traffic import is_bulk, paid_rate
from gmbot.redis import get_redis

logger = logging.getLogger(__name__)

# Methods that post a message into a chat: the ones Telegram's per-chat limits count.
SENDING_METHODS = frozenset(
    {
        "sendMessage", "sendPhoto", "sendVideo", "sendAnimation", "sendAudio", "sendDocument",
        "sendVoice", "sendVideoNote", "sendSticker", "sendMediaGroup", "sendPaidMedia",
        "sendLocation", "sendVenue", "sendContact", "sendPoll", "sendDice", "sendInvoice",
        "sendGame", "copyMessage", "copyMessages", "forwardMessage", "forwardMessages",
    }
)  # fmt: skip
UNCOUNTED_METHODS = frozenset({"getUpdates"})

# After Redis fails, budgets are skipped this long before Redis is tried again, so an outage costs
# neither a connect timeout per call nor a log line per call.
REDIS_RETRY_SECONDS = 5.0

# KEYS: the budgets' keys. ARGV: max_wait, a unique member, then limit and window per key.
# Returns {wait, index of the budget that set it (0: none)}; the slot is reserved in every key
# when wait <= max_wait, and nothing is written otherwise.
#
# Each key is a sorted set of reserved send times, which may lie up to max_wait in the future. A
# time t fits a budget when no window of `window` seconds that contains t already holds `limit`
# calls; the earliest time that fits every budget is `now` or the moment an earlier call leaves a
# window (its time + window), so only those candidates are tried, in order.
_SCRIPT = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local max_wait = tonumber(ARGV[1])
local member = ARGV[2]
local budgets = {}
local candidates = {now}
for i, key in ipairs(KEYS) do
  local limit = tonumber(ARGV[1 + 2 * i])
  local window = tonumber(ARGV[2 + 2 * i])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  local times = {}
  local raw = redis.call('ZRANGE', key, 0, -1, 'WITHSCORES')
  for j = 2, #raw, 2 do
    local at = tonumber(raw[j])
    times[#times + 1] = at
    if at + window > now then candidates[#candidates + 1] = at + window end
  end
  budgets[i] = {times = times, limit = limit, window = window}
end

-- Does a call at t fit: for every window (s - w, s] with t <= s < t + w, fewer than limit calls?
local function fits(budget, t)
  local times, limit, window = budget.times, budget.limit, budget.window
  local edges = {t}
  for _, at in ipairs(times) do
    if at >= t and at < t + window then edges[#edges + 1] = at end
  end
  for _, s in ipairs(edges) do
    local count = 0
    for _, at in ipairs(times) do
      if at > s - window and at <= s then count = count + 1 end
    end
    if count >= limit then return false end
  end
  return true
end

table.sort(candidates)
-- binding: the first budget that refuses `now`, the one to name when the call has to wait.
local chosen, binding = nil, 0
for _, t in ipairs(candidates) do
  local refused = 0
  for i, budget in ipairs(budgets) do
    if not fits(budget, t) then refused = i break end
  end
  if refused == 0 then chosen = t break end
  if binding == 0 then binding = refused end
end
local wait = chosen - now
if wait <= max_wait then
  for i, key in ipairs(KEYS) do
    redis.call('ZADD', key, chosen, member)
    redis.call('PEXPIRE', key, math.ceil((max_wait + budgets[i].window) * 1000) + 1000)
  end
end
return {string.format('%.6f', wait), binding}
"""


@dataclass(frozen=True)
class Budget:
    name: str  # bot, bulk, group or private: what a log line or a metric says was full
    key: str
    limit: int
    window: float  # seconds


_script: Script | None = None
_redis_skipped_until = 0.0


def budgets_for(
    bot_id: int, method: str, chat_id: int | str | None, bulk: bool, paid: int = 0
) -> list[Budget]:
    """The budgets a call draws on (`paid`: the paid rate a message goes out at, 0 for none).
    Keys share the bot's hash tag, so a cluster keeps them in one slot and the script may touch
    them together."""
    if method in UNCOUNTED_METHODS:
        return []
    prefix = f"tg:budget:{{{bot_id}}}"
    sending = method in SENDING_METHODS
    if sending and paid > 0:
        budgets = [_paid_budget(f"{prefix}:paid", paid)]
    else:
        budgets = [_budget("calls", f"{prefix}:calls")]
        if sending:
            budgets.append(_budget("bot", f"{prefix}:bot"))
        if bulk:
            budgets.append(_budget("bulk", f"{prefix}:bulk"))
    if sending and chat_id is not None:
        private = isinstance(chat_id, int) and chat_id > 0
        # Groups, supergroups and channels, by id or by @username, draw on the group limits.
        chat = chat_id.lower() if isinstance(chat_id, str) else chat_id
        budgets.append(_budget("private" if private else "group", f"{prefix}:chat:{chat}"))
        if bulk:
            kind = "private" if private else "group"
            spacing = getattr(settings, f"TELEGRAM_{kind.upper()}_SPACING_MS")
            budgets.append(Budget("spacing", f"{prefix}:gap:{chat}", 1, _ms(spacing)))
    return budgets


def acquire(bot_id: int, method: str, chat_id: int | str | None) -> float:
    """Take a slot in every budget this call draws on; returns the seconds slept for it.

    Sleeps when the slot is at most TELEGRAM_BUDGET_MAX_WAIT_MS away; raises RateLimited (with
    the wait as retry_after) when it is further, having reserved nothing."""
    global _redis_skipped_until
    budgets = budgets_for(bot_id, method, chat_id, is_bulk(), paid_rate())
    if not budgets or time.monotonic() < _redis_skipped_until:
        return 0.0
    max_wait = _ms(settings.TELEGRAM_BUDGET_MAX_WAIT_MS)
    try:
        wait, binding = _reserve(budgets, max_wait)
    except redis.RedisError as exc:
        _redis_skipped_until = time.monotonic() + REDIS_RETRY_SECONDS
        logger.warning(
            "Telegram budgets unavailable (Redis: %s); calls proceed without them for %.0fs",
            type(exc).__name__,
            REDIS_RETRY_SECONDS,
        )
        return 0.0
    if wait > max_wait:
        full = budgets[binding - 1].name if binding else "bot"
        raise RateLimited(
            f"Budget full ({full}): retry after {wait:.3f}s",
            method,
            429,
            chat_id,
            # Rounded up to the millisecond: retrying a little early would only be refused again.
            retry_after=math.ceil(wait * 1000) / 1000,
        )
    if wait > 0:
        time.sleep(wait)
    return max(wait, 0.0)


def _reserve(budgets: list[Budget], max_wait: float) -> tuple[float, int]:
    global _script
    client = get_redis()
    if _script is None:
        _script = client.register_script(_SCRIPT)
    args: list[str | float | int] = [max_wait, os.urandom(8).hex()]
    for budget in budgets:
        args += [budget.limit, budget.window]
    wait, binding = _script(keys=[budget.key for budget in budgets], args=args, client=client)
    return float(wait), int(binding)


def _budget(name: str, key: str) -> Budget:
    """A budget sized by TELEGRAM_<NAME>_LIMIT and TELEGRAM_<NAME>_WINDOW_MS."""
    kind = name.upper()
    limit = getattr(settings, f"TELEGRAM_{kind}_LIMIT")
    return Budget(name, key, limit, _ms(getattr(settings, f"TELEGRAM_{kind}_WINDOW_MS")))


def _paid_budget(key: str, rate: int) -> Budget:
    """`rate` a second as `rate // 50` messages per 20 ms-or-so window: the script's cost grows
    with the square of a budget's limit, and 1,000 in one second would cost milliseconds a call;
    a short window holds a handful of calls and allows the same rate, in smaller bursts."""
    limit = max(1, rate // 50)
    return Budget("paid", key, limit, limit / rate)


def _ms(milliseconds: int) -> float:
    return milliseconds / 1000
