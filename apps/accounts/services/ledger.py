"""The points ledger: every change of a balance is a row, and a row is written once.

Both functions here run inside the caller's transaction (they say so by asserting it): the
ledger row and the balance change commit together or not at all. The row goes in first, with
`INSERT … ON CONFLICT DO NOTHING`: a reference already on the ledger (a repeated job, the same
referral twice, a second daily run) inserts nothing and so changes no balance. The balance then
moves by a conditional UPDATE; PostgreSQL re-reads the row after waiting for its lock, so of
concurrent charges only those that still find a point take one, and the CHECK on the column
(account_points_never_negative) stops anything else.
"""

from __future__ import annotations

from enum import Enum

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from apps.accounts.models import Account, LedgerEntry

START_POINTS = 10  # SPEC D1
REFERRAL_POINTS = 10  # SPEC D1
DAILY_POINTS = 10  # SPEC D2
CHECK_LIVE_COST = 1  # SPEC D3

# Table names from the models, every value a parameter.
_INSERT = f"""
INSERT INTO {LedgerEntry._meta.db_table} (account_id, delta, reason, reference, created_at)
VALUES (%s, %s, %s, %s, now()) ON CONFLICT DO NOTHING RETURNING id
"""  # noqa: S608


def _record(account_id: int, delta: int, reason: str, reference: str) -> int | None:
    """Insert the ledger row; its id, or None when this (reason, reference) is already there."""
    assert connection.in_atomic_block, "a ledger row is written with its balance change"
    with connection.cursor() as cursor:
        cursor.execute(_INSERT, [account_id, delta, reason, reference])
        row = cursor.fetchone()
    return None if row is None else int(row[0])


def credit(account_id: int, points: int, reason: str, reference: str = "") -> int | None:
    """Give the account `points` once for (reason, reference). Returns the ledger row's id, or
    None when it was given before. In the caller's transaction; locks the account's row."""
    entry = _record(account_id, points, reason, reference)
    if entry is not None:
        Account.objects.filter(pk=account_id).update(
            points=F("points") + points, updated_at=timezone.now()
        )
    return entry


class Charge(Enum):
    PAID = "paid"  # the points were taken now
    PAID_BEFORE = "paid_before"  # this reference was charged already (a repeated job)
    EMPTY = "empty"  # not enough points: nothing taken, nothing written


_TAKE = f"""
UPDATE {Account._meta.db_table} SET points = points - %s, updated_at = now()
WHERE id = %s AND points >= %s RETURNING points
"""  # noqa: S608


def charge(account_id: int, points: int, reason: str, reference: str) -> tuple[Charge, int | None]:
    """Take `points` once for (reason, reference) if the balance holds them. Returns what
    happened and the balance left when they were taken now. Its own transaction (a savepoint
    inside another); locks the account's row."""
    with transaction.atomic():
        if _record(account_id, -points, reason, reference) is None:
            return Charge.PAID_BEFORE, None
        with connection.cursor() as cursor:
            cursor.execute(_TAKE, [points, account_id, points])
            row = cursor.fetchone()
        if row is not None:
            return Charge.PAID, int(row[0])
        transaction.set_rollback(True)  # the row must not stay without its charge
        return Charge.EMPTY, None
