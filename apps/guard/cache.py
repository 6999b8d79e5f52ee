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
- seen:<group>:<user>          the member's status last written to MemberState, SEEN_SECONDS
- stats                        hash: hits, misses (the benchmark's and operators' hit rate)
and, through Django's cache (pickled, the same Redis), guard:protection:v2:<bot pk>:<chat>: what
a group requires (PROTECTION_TTL; dropped by apps/guard/signals.py whenever a group, its
protection, a link or a channel row changes, and by the services after their bulk updates).
"""

from __future__ import annotations

import contextlib
import json
import logging
import random
from collections.abc import Iterable

import redis
from django.core.cache import cache as django_cache

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


def memberships(bot: int, channels: list[int], user: int) -> dict[int, bool]:
    """What the cache knows about the user's membership in each channel (absent: unknown)."""
    if not channels:
        return {}
    try:
        values = get_redis().mget([_sub_key(bot, channel, user) for channel in channels])
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


def count(hits: int, misses: int) -> None:
    if not hits and not misses:
        return
    try:
        pipe = get_redis().pipeline(transaction=False)
        if hits:
            pipe.hincrby(STATS_KEY, "hits", hits)
        if misses:
            pipe.hincrby(STATS_KEY, "misses", misses)
        pipe.execute()
    except redis.RedisError:
        pass  # statistics only; the check itself already warned


def stats() -> dict[str, int]:
    try:
        raw = get_redis().hgetall(STATS_KEY)
    except redis.RedisError:
        return {"hits": 0, "misses": 0}
    return {"hits": int(raw.get(b"hits", 0)), "misses": int(raw.get(b"misses", 0))}


def admin_ids(bot: int, chat: int) -> set[int] | None:
    try:
        raw = get_redis().get(f"gmbot:guard:admins:{bot}:{chat}")
    except redis.RedisError:
        _unavailable("admin lists go to Telegram")
        return None
    return None if raw is None else set(json.loads(raw))


def remember_admins(bot: int, chat: int, ids: Iterable[int]) -> None:
    try:
        get_redis().set(f"gmbot:guard:admins:{bot}:{chat}", json.dumps(sorted(ids)), ex=ADMINS_TTL)
    except redis.RedisError:
        _unavailable("an admin list is not cached")


def forget_admins(bot: int, chat: int) -> None:
    _drop(f"gmbot:guard:admins:{bot}:{chat}", "an admin list could not be dropped")


def _claim(key: str, seconds: int, what: str) -> bool:
    # Fails open (SPEC G9): without Redis the member is still checked and told, maybe twice.
    return claims.claim(
        key, seconds, fail_open=True, note=f"guard: Redis unavailable, {what} is not deduplicated"
    )


def _drop(key: str, what: str) -> None:
    """Delete a key; without Redis, log `what` went undone (the key expires on its own)."""
    try:
        get_redis().delete(key)
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
    # v2: the pickled Protection carries the guard's own row; v1 entries of a running release
    # are never read back into it, they expire within PROTECTION_TTL.
    return f"guard:protection:v2:{bot_id}:{chat}"


def protection(bot_id: int, chat: int) -> object:
    """The cached protection of a group, None for "not protected", or UNKNOWN."""
    try:
        return django_cache.get(_protection_key(bot_id, chat), UNKNOWN)
    except redis.RedisError:
        _unavailable("a group's protection is read from the database")
        return UNKNOWN


def remember_protection(bot_id: int, chat: int, value: object) -> None:
    ttl = NO_PROTECTION_TTL if value is None else PROTECTION_TTL
    try:
        django_cache.set(_protection_key(bot_id, chat), value, ttl)
    except redis.RedisError:
        _unavailable("a group's protection is not cached")


def forget_protection(bot_id: int, chat: int) -> None:
    try:
        django_cache.delete(_protection_key(bot_id, chat))
    except redis.RedisError:
        # Nothing was cached while Redis was down; what was cached before expires on its own.
        _unavailable("a group's cached protection could not be dropped")


def _seen_key(group: int, user: int) -> str:
    return f"gmbot:guard:seen:{group}:{user}"


def recently_recorded(group: int, user: int, status: str) -> bool:
    """Whether the member's row was written with this status within SEEN_SECONDS."""
    try:
        return get_redis().get(_seen_key(group, user)) == status.encode()
    except redis.RedisError:
        return False  # write the row: correct, only slower


def recorded(group: int, user: int, status: str) -> None:
    with contextlib.suppress(redis.RedisError):  # the next message writes the row again
        get_redis().set(_seen_key(group, user), status, ex=SEEN_SECONDS)


def forget_recorded(group: int, user: int) -> None:
    _drop(_seen_key(group, user), "a member's recorded status could not be dropped")
