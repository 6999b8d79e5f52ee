"""Doing a piece of work once: claim a Redis key, or claim a row with a conditional update.

A Redis claim is `SET key NX EX seconds`: of every process asking, one gets it until it expires
or is released. Callers say what happens when Redis cannot answer, because the right answer
depends on the work: a warning to a member fails open (better twice than never), an update's
dedup falls back to PostgreSQL (`take`, which lets the error through).

A row claim is an `UPDATE … WHERE <still in the state we expect>`: the database's row lock lets
exactly one of concurrent callers see its update match (healthchecks' `sendalerts` claims a
flip this way), so only that caller goes on to act.
"""

from __future__ import annotations

import logging
from typing import Any

import redis
from django.db.models import QuerySet

from gmbot.redis import get_redis

logger = logging.getLogger(__name__)


def take(key: str, seconds: int) -> bool:
    """Claim `key` for `seconds`: True for the one caller that got it. Raises redis.RedisError
    when Redis cannot answer, for a caller with a fallback of its own."""
    return bool(get_redis().set(key, "1", nx=True, ex=seconds))


def claim(key: str, seconds: int, *, fail_open: bool, note: str) -> bool:
    """Claim `key` for `seconds`. Without Redis the answer is `fail_open`: True lets the work go
    ahead (it may then be done twice), False holds it back; `note` is logged as a warning."""
    try:
        return take(key, seconds)
    except redis.RedisError:
        logger.warning(note)
        return fail_open


def release(key: str, *, note: str, level: int = logging.WARNING) -> None:
    """Give a claim back so the next caller gets it at once. Without Redis `note` is logged at
    `level`; the claim then lasts until it expires."""
    try:
        get_redis().delete(key)
    except redis.RedisError:
        logger.log(level, note)


def claim_row(rows: QuerySet[Any], **changes: Any) -> bool:
    """Apply `changes` to the one row `rows` selects, if it still matches: True for the caller
    whose update changed it, False when another caller (or an earlier run) got there first.
    `rows` names the row and the state it must still be in, e.g.
    `DeadLetter.objects.filter(pk=pk, status=DEAD)`. Locks that row for the UPDATE only."""
    return rows.update(**changes) == 1
