"""Claiming deliveries for one attempt at them, and settling the claims of attempts that died.

An attempt (one run of a sending or deleting job) takes a token and a lease in Redis
(`gmbot:broadcast:lease:<token>`, BROADCAST_LEASE_SECONDS). It claims only the rows it is about
to call for (sending: one at a time at the free rate, a few dozen for a paid broadcast; deleting,
where a second call is harmless, a batch at once) with one conditional UPDATE (its state column
from `free` to `busy`, `claim` = token), calls for them, records their outcomes with UPDATEs
that must still find each row claimed by it, and only then claims more. It renews its lease
(only while the lease still exists) before any call that comes more than a third of the lease
after the last renewal. So:

- a live attempt never lets its lease lapse mid-call (the lease outlives the longest call);
- an attempt whose lease has lapsed stops before its next call, and an attempt whose outcome
  write finds a row taken from it stops at once;
- rows it claimed and has not called for yet, it gives back itself when it stops early;
- the claims of an attempt whose lease is gone are settled by whoever looks next: every row it
  still holds may have been called for when it died (`settle`: for a send, `unknown`, never made
  again).

Without Redis no attempt starts (nothing would prove it alive), and claims are settled only once
older than the longest a job can live (the hard time limit plus a lease).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import redis
from django.conf import settings
from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

import celeryconfig
from apps.broadcasts.models import Delivery
from gmbot.redis import get_redis

logger = logging.getLogger(__name__)

LEASE_KEY = "gmbot:broadcast:lease:{token}"


class NoLease(Exception):
    """Redis cannot give (or renew) a lease: the attempt must not call Telegram."""


@dataclass
class Attempt:
    """One job's claim on some deliveries. `column` is the state column it claims through
    (status for sending, deletion for deleting); `free`/`busy` its two values."""

    column: str
    free: str
    busy: str
    token: str = field(default_factory=lambda: uuid.uuid4().hex)
    renewed: float = 0.0

    @property
    def key(self) -> str:
        return LEASE_KEY.format(token=self.token)

    def start(self) -> None:
        try:
            taken = get_redis().set(self.key, "1", nx=True, ex=settings.BROADCAST_LEASE_SECONDS)
        except redis.RedisError:
            raise NoLease("Redis is unavailable") from None
        if not taken:
            raise NoLease("lease token collision")
        self.renewed = time.monotonic()

    def keep_alive(self) -> bool:
        """Before a call: True when the lease is good for the call. Renews it once a third of it
        has passed, only if it still exists; False means it lapsed and the attempt must stop."""
        lease = settings.BROADCAST_LEASE_SECONDS
        if time.monotonic() - self.renewed < lease / 3:
            return True
        try:
            renewed = get_redis().set(self.key, "1", xx=True, ex=lease)
        except redis.RedisError:
            return False
        if renewed:
            self.renewed = time.monotonic()
        return bool(renewed)

    def end(self) -> None:
        try:
            get_redis().delete(self.key)
        except redis.RedisError:
            logger.warning(
                "broadcast attempt %s: lease not released (Redis); it lapses", self.token
            )

    def claim(self, rows: QuerySet[Delivery], limit: int) -> list[Delivery]:
        """Claim up to `limit` of `rows` that are `free`, lowest ids first, skipping rows another
        attempt is claiming right now. Returns them in id order (id, group, chat, message id
        loaded). One statement, `UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED)
        RETURNING …`: at the free rate it runs once a message."""
        free = rows.filter(**{self.column: self.free}).order_by("id").values("id")[:limit]
        select, params = free.query.sql_with_params()
        if connection.features.has_select_for_update_skip_locked:
            select += " FOR UPDATE SKIP LOCKED"
        table = connection.ops.quote_name(Delivery._meta.db_table)
        column = connection.ops.quote_name(self.column)  # status, deletion: plain columns
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET {column} = %s, claim = %s, claimed_at = %s "  # noqa: S608
                f"WHERE id IN ({select}) RETURNING id, group_id, chat_id, message_id",
                [self.busy, self.token, timezone.now(), *params],
            )
            found = cursor.fetchall()
        return [
            Delivery(id=pk, group_id=group, chat_id=chat, message_id=message)
            for pk, group, chat, message in sorted(found)
        ]

    def mine(self, delivery: Delivery) -> QuerySet[Delivery]:
        """The row, only while this attempt still holds it: every outcome is written through it."""
        return Delivery.objects.filter(pk=delivery.pk, claim=self.token, **{self.column: self.busy})

    def release(self, deliveries: list[Delivery]) -> int:
        """Give back rows this attempt claimed and did not call for."""
        return Delivery.objects.filter(
            pk__in=[d.pk for d in deliveries], claim=self.token, **{self.column: self.busy}
        ).update(**{self.column: self.free}, claim="", claimed_at=None)


def settle_dead_claims(
    rows: QuerySet[Delivery],
    attempt_field: str,
    busy: str,
    settle: Callable[[QuerySet[Delivery]], Any],
) -> int:
    """Settle the claims, among `rows`, of attempts that are gone (see the module docstring):
    `settle` gets the rows a dead attempt still held. Returns how many claimed rows remain held
    by attempts still alive."""
    claimed = rows.filter(**{attempt_field: busy})
    tokens = sorted(set(claimed.values_list("claim", flat=True)))
    if not tokens:
        return 0
    dead = _dead(tokens, claimed)
    alive = 0
    for token in tokens:
        of_token = claimed.filter(claim=token).order_by("id")
        if token not in dead:
            alive += of_token.count()
            continue
        settled = settle(of_token)
        logger.warning("broadcast claims of a dead attempt settled: %s row(s)", settled)
    return alive


def _dead(tokens: list[str], claimed: QuerySet[Delivery]) -> set[str]:
    try:
        pipe = get_redis().pipeline(transaction=False)
        for token in tokens:
            pipe.exists(LEASE_KEY.format(token=token))
        leased = pipe.execute()
    except redis.RedisError:
        # No lease can be checked: only claims older than any job could live count as dead.
        oldest = timezone.now() - timedelta(
            seconds=celeryconfig.task_time_limit + settings.BROADCAST_LEASE_SECONDS
        )
        old = claimed.filter(claimed_at__lt=oldest).values_list("claim", flat=True)
        return set(old)
    return {token for token, exists in zip(tokens, leased, strict=True) if not exists}
