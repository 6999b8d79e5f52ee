"""The guard's short-lived state in Redis: membership checks, admin lists, warnings, joins.

Every function degrades when Redis is unavailable (SPEC G9): a read is a miss, so the caller asks
Telegram; a claim is granted, so the member is still checked and told; a warning is logged, and
nothing reaches the user as an error.

Keys (all under gmbot:guard:, scoped by the bot's Telegram id):
- sub:<bot>:<channel>:<user>   "1" subscribed / "0" not, 10 min / 1 min, ±15% jitter
- admins:<bot>:<chat>          JSON list of admin ids, ADMINS_TTL seconds
- warned:<bot>:<chat>:<user>   the one-warning-per-WARN_SECONDS claim (SET NX EX)
- warnings:<bot>:<chat>:<user> ids of the warnings sent to the user, for the verify button
- joined:<bot>:<chat>:<user>   a join is acted on once though Telegram reports it twice
- seen:<bot pk>:<chat>:<user>  the member's status last written to MemberState, SEEN_SECONDS
- stats                        hash: hits, misses (the benchmark's and operators' hit rate)
- protection:<bot pk>:<chat>   what a group requires, pickled (PROTECTION_TTL; dropped by
                               apps/guard/signals.py whenever a group, its protection, a link or
                               a channel row changes, and by the services after bulk updates)
- channel-groups:<bot pk>       hash: a channel's chat id -> JSON list of the enforced groups
                               linked to it (their chat ids), for a channel leave; dropped whole
                               with any group's protection, expires PROTECTION_TTL after its
                               first entry

A message in a protected group is the hot path: `sender_state` reads the group's protection, its
admins and the sender's recorded status in one round trip, and `memberships` reads the sender's
cached checks and counts the hits and misses in another (one Lua call).
"""

from __future__ import annotations

import contextlib
import json
import logging
import pickle
import random
from collections.abc import Iterable
from typing import NamedTuple

import redis
from redis.commands.core import Script

from gmbot import claims
from gmbot.redis import get_redis

logger = logging.getLogger(__name__)

MEMBER_TTL = 600
NON_MEMBER_TTL = 60
JITTER = 0.15
ADMINS_TTL = 120  # admin changes also drop it (chat_member), so this only bounds staleness
WARN_SECONDS = 300
WARNINGS_TTL = 2 * 24 * 3600
JOIN_WINDOW = 60
SEEN_SECONDS = 300  # an active member's row is refreshed at most this often
PROTECTION_TTL = 60  # changes drop the entry at once; this bounds a change made behind our back
NO_PROTECTION_TTL = 15  # "not protected", e.g. a group whose chat id just migrated
UNKNOWN = object()  # protection(): nothing cached
STATS_KEY = "gmbot:guard:stats"


def _unavailable(what: str) -> None:
    logger.warning("guard: Redis unavailable, %s", what)


def _sub_key(bot: int, channel: int, user: int) -> str:
    return f"gmbot:guard:sub:{bot}:{channel}:{user}"


def _ttl(subscribed: bool) -> int:
    base = MEMBER_TTL if subscribed else NON_MEMBER_TTL
    return max(1, round(base * random.uniform(1 - JITTER, 1 + JITTER)))


# KEYS: the membership keys, then the stats hash. ARGV: "1" when a cached "not subscribed" is
# trusted. Returns the cached values; a value the caller will not use counts as a miss.
_MEMBERSHIPS = """
local n = #KEYS - 1
local values = redis.call('MGET', unpack(KEYS, 1, n))
local hits = 0
for i = 1, n do
  if values[i] == '1' or (values[i] == '0' and ARGV[1] == '1') then hits = hits + 1 end
end
if hits > 0 then redis.call('HINCRBY', KEYS[n + 1], 'hits', hits) end
if hits < n then redis.call('HINCRBY', KEYS[n + 1], 'misses', n - hits) end
return values
"""
_memberships_script: Script | None = None


def memberships(
    bot: int, channels: list[int], user: int, *, trust_negative: bool = True
) -> dict[int, bool]:
    """What the cache knows about the user's membership in each channel (absent: unknown), and
    the hits and misses counted, in one round trip. A cached "not subscribed" counts as a miss
    when not `trust_negative` (the caller asks Telegram again)."""
    global _memberships_script
    if not channels:
        return {}
    client = get_redis()
    if _memberships_script is None:
        _memberships_script = client.register_script(_MEMBERSHIPS)
    keys = [_sub_key(bot, channel, user) for channel in channels]
    try:
        values = _memberships_script(
            keys=[*keys, STATS_KEY], args=["1" if trust_negative else "0"], client=client
        )
    except redis.RedisError:
        _unavailable("membership checks go to Telegram")
        return {}
    return {
        channel: value == b"1"
        for channel, value in zip(channels, values, strict=True)
        if value is not None
    }


def remember(bot: int, channel: int, user: int, subscribed: bool) -> None:
    try:
        get_redis().set(
            _sub_key(bot, channel, user), "1" if subscribed else "0", ex=_ttl(subscribed)
        )
    except redis.RedisError:
        _unavailable("a membership check is not cached")


def count_misses(misses: int) -> None:
    """Checks made without reading the cache (a batch re-check) count as misses."""
    if not misses:
        return
    with contextlib.suppress(redis.RedisError):  # statistics only
        get_redis().hincrby(STATS_KEY, "misses", misses)


def stats() -> dict[str, int]:
    try:
        raw = get_redis().hgetall(STATS_KEY)
    except redis.RedisError:
        return {"hits": 0, "misses": 0}
    return {"hits": int(raw.get(b"hits", 0)), "misses": int(raw.get(b"misses", 0))}


def _admins_key(bot: int, chat: int) -> str:
    return f"gmbot:guard:admins:{bot}:{chat}"


def _admins(raw: bytes | str | None) -> set[int] | None:
    return None if raw is None else set(json.loads(raw))


def _text(raw: bytes | str | None) -> str | None:
    return raw.decode() if isinstance(raw, bytes) else raw


def admin_ids(bot: int, chat: int) -> set[int] | None:
    try:
        raw = get_redis().get(_admins_key(bot, chat))
    except redis.RedisError:
        _unavailable("admin lists go to Telegram")
        return None
    return _admins(raw)


def remember_admins(bot: int, chat: int, ids: Iterable[int]) -> None:
    try:
        get_redis().set(_admins_key(bot, chat), json.dumps(sorted(ids)), ex=ADMINS_TTL)
    except redis.RedisError:
        _unavailable("an admin list is not cached")


def forget_admins(bot: int, chat: int) -> None:
    _drop(_admins_key(bot, chat), what="an admin list could not be dropped")


def _claim(key: str, seconds: int, what: str) -> bool:
    # Fails open (SPEC G9): without Redis the member is still checked and told, maybe twice.
    return claims.claim(
        key, seconds, fail_open=True, note=f"guard: Redis unavailable, {what} is not deduplicated"
    )


def _drop(*keys: str, what: str) -> None:
    """Delete the keys (one command); without Redis, log `what` went undone (they expire on
    their own)."""
    try:
        get_redis().delete(*keys)
    except redis.RedisError:
        _unavailable(what)


def _release(key: str) -> None:
    claims.release(key, note="guard: Redis unavailable, a claim could not be released")


def claim_warning(bot: int, chat: int, user: int) -> bool:
    """True for the first warning to this user in this group within WARN_SECONDS."""
    return _claim(f"gmbot:guard:warned:{bot}:{chat}:{user}", WARN_SECONDS, "a warning")


def release_warning(bot: int, chat: int, user: int) -> None:
    """The warning was not sent (or the user is verified): the next one may go at once."""
    _release(f"gmbot:guard:warned:{bot}:{chat}:{user}")


def defer_warning(bot: int, chat: int, user: int) -> None:
    """A warning waits for its group's budget (enforcement._post_warning): the one job that
    sends it takes this mark (`take_deferred_warning`), so a job run twice sends once."""
    _claim(f"gmbot:guard:deferred:{bot}:{chat}:{user}", WARN_SECONDS, "a deferred warning")


def take_deferred_warning(bot: int, chat: int, user: int) -> bool:
    """True once per `defer_warning`; fails open (true) without Redis, as the claims do."""
    try:
        return bool(get_redis().delete(f"gmbot:guard:deferred:{bot}:{chat}:{user}"))
    except redis.RedisError:
        _unavailable("a deferred warning is not deduplicated")
        return True


def claim_join(bot: int, chat: int, user: int) -> bool:
    """True for the first report of this join within JOIN_WINDOW (Telegram sends two)."""
    return _claim(f"gmbot:guard:joined:{bot}:{chat}:{user}", JOIN_WINDOW, "a join")


def release_join(bot: int, chat: int, user: int) -> None:
    _release(f"gmbot:guard:joined:{bot}:{chat}:{user}")


def add_warning_message(bot: int, chat: int, user: int, message_id: int) -> None:
    key = f"gmbot:guard:warnings:{bot}:{chat}:{user}"
    try:
        pipe = get_redis().pipeline(transaction=False)
        pipe.sadd(key, message_id)
        pipe.expire(key, WARNINGS_TTL)
        pipe.execute()
    except redis.RedisError:
        _unavailable("a warning's id is not kept; only the pressed one will be deleted")


def pop_warning_messages(bot: int, chat: int, user: int) -> set[int]:
    key = f"gmbot:guard:warnings:{bot}:{chat}:{user}"
    try:
        pipe = get_redis().pipeline(transaction=False)
        pipe.smembers(key)
        pipe.delete(key)
        members, _ = pipe.execute()
    except redis.RedisError:
        _unavailable("older warnings are not deleted")
        return set()
    return {int(member) for member in members}


def _protection_key(bot_id: int, chat: int) -> str:
    return f"gmbot:guard:protection:{bot_id}:{chat}"


def _protection(raw: bytes | str | None) -> object:
    # Pickled as Django's own cache would: the value is ours, written by remember_protection.
    return pickle.loads(raw) if isinstance(raw, bytes) else UNKNOWN  # noqa: S301


def protection(bot_id: int, chat: int) -> object:
    """The cached protection of a group, None for "not protected", or UNKNOWN."""
    try:
        return _protection(get_redis().get(_protection_key(bot_id, chat)))
    except redis.RedisError:
        _unavailable("a group's protection is read from the database")
        return UNKNOWN


def remember_protection(bot_id: int, chat: int, value: object) -> None:
    ttl = NO_PROTECTION_TTL if value is None else PROTECTION_TTL
    try:
        get_redis().set(_protection_key(bot_id, chat), pickle.dumps(value), ex=ttl)
    except redis.RedisError:
        _unavailable("a group's protection is not cached")


def forget_protection(bot_id: int, chat: int) -> None:
    """Drop a group's cached protection, and the bot's cached groups of each channel (the group
    may have joined or left one's list). Without Redis nothing was cached meanwhile; what was
    cached before expires on its own."""
    _drop(
        _protection_key(bot_id, chat),
        _channel_groups_key(bot_id),
        what="a group's cached protection could not be dropped",
    )


def _channel_groups_key(bot_id: int) -> str:
    return f"gmbot:guard:channel-groups:{bot_id}"


def channel_groups(bot_id: int, channel: int) -> list[int] | None:
    """The enforced groups linked to the channel, as remember_channel_groups wrote them, or None:
    nothing cached."""
    try:
        raw = get_redis().hget(_channel_groups_key(bot_id), str(channel))
    except redis.RedisError:
        _unavailable("a channel's groups are read from the database")
        return None
    return [int(chat) for chat in json.loads(raw)] if raw is not None else None


def remember_channel_groups(bot_id: int, channel: int, groups: list[int]) -> None:
    """Cache the channel's groups until any group's protection changes (forget_protection drops
    the bot's whole hash), and PROTECTION_TTL at most from the hash's first entry: an entry
    written by a reader that lost a race with a change lives no longer than that."""
    key = _channel_groups_key(bot_id)
    try:
        pipe = get_redis().pipeline()  # MULTI: no entry is left without the hash's expiry
        pipe.hset(key, str(channel), json.dumps(groups))
        pipe.expire(key, PROTECTION_TTL, nx=True)
        pipe.execute()
    except redis.RedisError:
        _unavailable("a channel's groups are not cached")


def _seen_key(bot_id: int, chat: int, user: int) -> str:
    return f"gmbot:guard:seen:{bot_id}:{chat}:{user}"


def recorded_status(bot_id: int, chat: int, user: int) -> str | None:
    """The member's status as written to MemberState within SEEN_SECONDS, if it was."""
    try:
        return _text(get_redis().get(_seen_key(bot_id, chat, user)))
    except redis.RedisError:
        return None  # write the row: correct, only slower


def recorded(bot_id: int, chat: int, user: int, status: str) -> None:
    with contextlib.suppress(redis.RedisError):  # the next message writes the row again
        get_redis().set(_seen_key(bot_id, chat, user), status, ex=SEEN_SECONDS)


class SenderState(NamedTuple):
    """What the cache knows for a message in a group: its protection (or UNKNOWN), its admins
    (or None: unknown) and the sender's recorded status (or None)."""

    protection: object
    admins: set[int] | None
    recorded: str | None


def sender_state(bot_id: int, bot: int, chat: int, user: int) -> SenderState:
    """Read a message's SenderState in one round trip (`bot_id`: the row's pk; `bot`: Telegram's
    id, as the admin lists are keyed)."""
    try:
        pipe = get_redis().pipeline(transaction=False)
        pipe.get(_protection_key(bot_id, chat))
        pipe.get(_admins_key(bot, chat))
        pipe.get(_seen_key(bot_id, chat, user))
        raw_protection, raw_admins, raw_seen = pipe.execute()
    except redis.RedisError:
        _unavailable("a message's checks go to the database and Telegram")
        return SenderState(UNKNOWN, None, None)
    return SenderState(_protection(raw_protection), _admins(raw_admins), _text(raw_seen))
