"""Checking who is live (SPEC D3): one point for a fresh view of the live entries, then its
pages for free while the view lasts (ACCOUNTS_VIEW_SECONDS, 10 minutes).

The entries are apps/live's `LiveEntry` rows with `is_live` set, newest live first; this module
only reads them. A check charges through the ledger (`ledger.charge`), once per press or
command, so a repeated job shows the list again without a second charge; unlimited accounts are
not charged and leave no ledger row. Nobody live: nothing is charged.

A paid view is the message that shows it: `gmbot:accounts:view:<bot>:<chat>:<message>` lives in
Redis as long as its pages are free, and a page turn edits that message. Without Redis a view
cannot be remembered: a page turn is then shown for free rather than refused.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

import redis
from django.conf import settings
from django.db.models import Count, F, Window
from django.utils import timezone

from apps.accounts.models import Account, LedgerEntry
from apps.accounts.services import ledger
from apps.accounts.services.accounts import account_of
from apps.bots.context import BotContext
from apps.live.models import LiveEntry
from gmbot.redis import get_redis

logger = logging.getLogger(__name__)

PAGE_SIZE = 5


@dataclass(frozen=True)
class Page:
    entries: Sequence[LiveEntry]
    number: int  # from 1
    pages: int
    total: int


def live_page(number: int) -> Page:
    """Page `number` of the entries that are live now (the last page when there are fewer).
    One query, which also counts them all; a second only for a page past the last."""
    live = LiveEntry.objects.filter(is_live=True)
    ordered = live.annotate(total=Window(Count("id"))).order_by(
        F("live_since").desc(nulls_last=True), "platform", "handle", "pk"
    )
    number = max(1, number)
    entries = list(ordered[(number - 1) * PAGE_SIZE : number * PAGE_SIZE])
    if not entries and number > 1:  # past the last page (fewer live now): show the last
        total = live.count()
        return live_page(math.ceil(total / PAGE_SIZE)) if total else Page([], 1, 1, 0)
    total = entries[0].total if entries else 0
    return Page(entries, number, max(1, math.ceil(total / PAGE_SIZE)), total)


def is_unlimited(account: Account) -> bool:
    return account.unlimited_until is not None and account.unlimited_until > timezone.now()


class Outcome(Enum):
    SHOWN = "shown"
    NOBODY_LIVE = "nobody_live"
    NO_POINTS = "no_points"
    NO_ACCOUNT = "no_account"


@dataclass(frozen=True)
class Checked:
    outcome: Outcome
    page: Page | None = None
    account: Account | None = None
    # Points left after this check; None for an unlimited account or a repeated job.
    balance: int | None = None


def do_check_live(bot: BotContext, telegram_id: int, reference: str) -> Checked:
    """Charge one point for `reference` (a press or a command; once) and return the first
    page. Locks the account's row while it charges."""
    account = account_of(bot, telegram_id)
    if account is None:
        return Checked(Outcome.NO_ACCOUNT)
    page = live_page(1)
    if not page.entries:
        return Checked(Outcome.NOBODY_LIVE, page, account)
    if is_unlimited(account):
        return Checked(Outcome.SHOWN, page, account)
    paid, balance = ledger.charge(
        account.pk, ledger.CHECK_LIVE_COST, LedgerEntry.CHECK_LIVE, reference
    )
    if paid is ledger.Charge.EMPTY:
        return Checked(Outcome.NO_POINTS, account=account)
    return Checked(Outcome.SHOWN, page, account, balance)


def _view_key(bot_id: int, chat_id: int, message_id: int) -> str:
    return f"gmbot:accounts:view:{bot_id}:{chat_id}:{message_id}"


def open_view(bot: BotContext, chat_id: int, message_id: int) -> None:
    """The message just sent shows a paid view: its pages are free for a while."""
    try:
        get_redis().set(
            _view_key(bot.id, chat_id, message_id), "1", ex=settings.ACCOUNTS_VIEW_SECONDS
        )
    except redis.RedisError:
        logger.warning("accounts: Redis unavailable, a live view was not remembered")


def view_is_open(bot: BotContext, chat_id: int, message_id: int) -> bool:
    try:
        return bool(get_redis().exists(_view_key(bot.id, chat_id, message_id)))
    except redis.RedisError:
        logger.warning("accounts: Redis unavailable, a page of a live view shown for free")
        return True
