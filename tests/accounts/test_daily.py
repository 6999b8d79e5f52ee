"""The daily points (SPEC D2): 10 points per account per calendar day, in set-based batches,
idempotent however often or however many at once the grant runs."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
from django.db import connection

import tasks.low
from apps.accounts.models import Account, LedgerEntry
from apps.accounts.services import daily
from tests.factories import BotFactory


def accounts(n: int) -> list[Account]:
    bot = BotFactory(features=["accounts"])
    return Account.objects.bulk_create(
        Account(bot=bot, telegram_id=1_000_000 + i, points=i) for i in range(n)
    )


def daily_rows() -> list[tuple[int, str]]:
    return sorted(
        LedgerEntry.objects.filter(reason=LedgerEntry.DAILY).values_list("account_id", "reference")
    )


@pytest.mark.django_db
def test_the_daily_grant_gives_every_account_ten_points_once_a_day(monkeypatch):
    # given five accounts, and batches of two so the run takes three
    made = accounts(5)
    monkeypatch.setattr(daily, "BATCH_SIZE", 2)
    day = date(2026, 12, 1)

    # when the grant runs twice that day, then once the next day
    first = daily.do_grant_daily_points(day)
    second = daily.do_grant_daily_points(day)
    next_day = daily.do_grant_daily_points(day + timedelta(days=1))

    # then each account got 10 points per day, one ledger row per account and day
    assert (first.granted, second.granted, next_day.granted) == (5, 0, 5)
    assert first.done and first.after == made[-1].pk
    points = dict(Account.objects.values_list("pk", "points"))
    assert points == {account.pk: account.points + 20 for account in made}
    assert daily_rows() == sorted(
        (account.pk, d) for account in made for d in ("2026-12-01", "2026-12-02")
    )


@pytest.mark.django_db
def test_a_run_out_of_time_hands_the_rest_on_to_a_new_job_for_the_same_day(
    monkeypatch, settings, jobs_run_here
):
    # given three accounts in batches of one, runs with no time to spare, and a day kept in
    # UTC+14 (where it is already tomorrow, most of the time)
    made = accounts(3)
    monkeypatch.setattr(daily, "BATCH_SIZE", 1)
    monkeypatch.setattr(tasks.low, "DAILY_RUN_SECONDS", 0.0)
    settings.ACCOUNTS_DAY_TIMEZONE = "Pacific/Kiritimati"
    today = daily.today().isoformat()

    # when the task runs (the jobs it queues run here, one after another)
    first = tasks.low.grant_daily_points()

    # then its first job did one batch, and the jobs after it the rest, all for that day
    assert first == {"day": today, "after": made[0].pk, "granted": 1}
    assert daily_rows() == [(account.pk, today) for account in made]


@pytest.mark.django_db(transaction=True)
def test_two_grants_at_once_grant_once(monkeypatch):
    # given 600 accounts in batches of 50, and two runs starting together
    made = accounts(600)
    monkeypatch.setattr(daily, "BATCH_SIZE", 50)
    day = date(2026, 12, 1)
    barrier = threading.Barrier(2)
    granted: list[int] = []

    def run() -> None:
        barrier.wait()
        try:
            granted.append(daily.do_grant_daily_points(day).granted)
        finally:
            connection.close()

    # when both run in threads of their own (a connection each)
    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # then every account was granted once between them
    assert sum(granted) == 600
    assert len(daily_rows()) == 600
    assert dict(Account.objects.values_list("pk", "points")) == {
        account.pk: account.points + 10 for account in made
    }
