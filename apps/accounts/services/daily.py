"""The daily points (SPEC D2): every account gets DAILY_POINTS once per calendar day, in the zone
ACCOUNTS_DAY_TIMEZONE (UTC unless configured).

Set-based: one SQL statement per batch of BATCH_SIZE accounts, in the order of their ids,
inserts the day's ledger rows (`ON CONFLICT DO NOTHING` on the ledger's unique key: account,
"daily", the day) and adds the points to exactly the accounts whose row went in — one statement,
so one transaction per batch. A second run the same day, or two runs at once, insert nothing more
and so add nothing. `daily_granted_on` only lets a repeated run skip granted accounts without a
ledger lookup; the unique key is what makes the grant happen once.

A run stops after its time budget and says where it got to (`Progress.after`), so the task can
carry on in a new job instead of running past Celery's time limit. The day is fixed when a run
starts and handed on, so a run that crosses midnight finishes the day it began.
"""

from __future__ import annotations

import time
import zoneinfo
from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from apps.accounts.models import Account, LedgerEntry
from apps.accounts.services.ledger import DAILY_POINTS

BATCH_SIZE = 5000

# Table names from the models, every value a parameter.
_GRANT = f"""
WITH batch AS (
    SELECT id, daily_granted_on FROM {Account._meta.db_table}
    WHERE id > %(after)s ORDER BY id LIMIT %(size)s
), granted AS (
    INSERT INTO {LedgerEntry._meta.db_table} (account_id, delta, reason, reference, created_at)
    SELECT id, %(points)s, %(reason)s, %(reference)s, now() FROM batch
    WHERE daily_granted_on IS DISTINCT FROM %(day)s
    ORDER BY id
    ON CONFLICT DO NOTHING
    RETURNING account_id
), credited AS (
    UPDATE {Account._meta.db_table} AS account
    SET points = account.points + %(points)s,
        daily_granted_on = GREATEST(account.daily_granted_on, %(day)s)
    FROM granted WHERE account.id = granted.account_id
    RETURNING account.id
)
SELECT (SELECT max(id) FROM batch), (SELECT count(*) FROM batch), (SELECT count(*) FROM credited)
"""  # noqa: S608


@dataclass(frozen=True)
class Progress:
    day: date
    after: int  # the last account id this run handled
    granted: int  # accounts credited by this run
    done: bool  # every account up to the last one was handled


def today() -> date:
    return timezone.now().astimezone(zoneinfo.ZoneInfo(settings.ACCOUNTS_DAY_TIMEZONE)).date()


def do_grant_daily_points(
    day: date | None = None, *, after: int = 0, seconds: float | None = None
) -> Progress:
    """Grant `day`'s points (today by default) to every account with an id above `after`, batch
    by batch, for at most `seconds` (no limit: None). Each batch is its own transaction and
    locks its accounts' rows while it adds their points."""
    day = day or today()
    deadline = None if seconds is None else time.monotonic() + seconds
    granted = 0
    params: dict[str, str | int | date] = {
        "points": DAILY_POINTS,
        "reason": LedgerEntry.DAILY,
        "reference": day.isoformat(),
        "day": day,
        "size": BATCH_SIZE,
    }
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(_GRANT, {**params, "after": after})
            last, scanned, credited = cursor.fetchone()
        if last is not None:
            after, granted = int(last), granted + int(credited)
        if scanned < BATCH_SIZE:
            return Progress(day, after, granted, done=True)
        if deadline is not None and time.monotonic() >= deadline:
            return Progress(day, after, granted, done=False)
