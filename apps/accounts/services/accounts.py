"""Registering the users who start the bot, and their referrals (SPEC D1); who blocked it.

`/start` creates the account and grants the start bonus in one transaction; `/start ref_<id>`
(or `/start <id>`) also credits the referrer, in that same transaction, when the user is new,
is not the referrer and the referrer has an account with this bot. The ledger's unique keys keep
both grants to once however often the update is redelivered or the link used.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Count, Sum
from django.utils import timezone
from telebot.types import User as TgUser

from apps.accounts import jobs, texts
from apps.accounts.models import Account, LedgerEntry
from apps.accounts.services import ledger
from apps.bots.context import BotContext, context_for
from apps.telegram.client import Refusal
from gmbot import claims

logger = logging.getLogger(__name__)

REFERRAL_PREFIX = "ref_"


@dataclass(frozen=True)
class Started:
    account: Account
    created: bool


def referrer_id_of(payload: str) -> int | None:
    """The referrer's Telegram id from a /start payload: `ref_<id>` (the link we hand out) or a
    bare `<id>`. None for anything else."""
    raw = payload.strip()
    if raw.startswith(REFERRAL_PREFIX):
        raw = raw[len(REFERRAL_PREFIX) :]
    return int(raw) if raw.isdigit() and len(raw) <= 20 else None


def referral_link(bot: BotContext, telegram_id: int) -> str:
    return f"https://t.me/{bot.username}?start={REFERRAL_PREFIX}{telegram_id}"


def _profile(user: TgUser) -> dict[str, str]:
    return {
        "username": user.username or "",
        "first_name": (user.first_name or "")[:128],
        "last_name": (user.last_name or "")[:128],
        "language_code": (user.language_code or "")[:16],
    }


# Registers a new account, or does nothing for a known one (then no row comes back): one round
# trip, and two concurrent starts of one user meet at the unique key. Table name from the model,
# every value a parameter.
_REGISTER = f"""
INSERT INTO {Account._meta.db_table} (bot_id, telegram_id, username, first_name, last_name,
    language_code, referred_by_id, started_at, blocked, points, updated_at)
VALUES (%s, %s, %s, %s, %s, %s, %s, now(), false, 0, now())
ON CONFLICT (bot_id, telegram_id) DO NOTHING
RETURNING id, started_at
"""  # noqa: S608


@transaction.atomic
def do_start(bot: BotContext, user: TgUser, payload: str = "") -> Started:
    """Register the user (or refresh a known one's names and unblock them), grant the start
    bonus once and, for a new user, the referral once. Locks the new account's row and the
    referrer's while their points change."""
    profile = _profile(user)
    referrer = _referrer(bot, user, payload)
    with connection.cursor() as cursor:
        cursor.execute(
            _REGISTER, [bot.id, user.id, *profile.values(), referrer.pk if referrer else None]
        )
        row = cursor.fetchone()
    if row is None:
        return Started(_known(bot, user.id, profile), created=False)
    account = Account(
        pk=row[0],
        bot_id=bot.id,
        telegram_id=user.id,
        started_at=row[1],
        referred_by=referrer,
        **profile,
    )
    ledger.credit(account.pk, ledger.START_POINTS, LedgerEntry.START)
    account.points = ledger.START_POINTS
    if referrer is not None:
        entry = ledger.credit(
            referrer.pk, ledger.REFERRAL_POINTS, LedgerEntry.REFERRAL, str(account.pk)
        )
        if entry is not None:
            logger.info(
                "accounts: user %s of bot %s referred by %s", user.id, bot.id, referrer.telegram_id
            )
            jobs.after_commit(jobs.TELL_REFERRER, bot.id, entry)
    return Started(account, created=True)


def _referrer(bot: BotContext, user: TgUser, payload: str) -> Account | None:
    """The account a /start payload names as referrer: never the user themself."""
    referrer_id = referrer_id_of(payload)
    if referrer_id is None or referrer_id == user.id:
        return None
    return Account.objects.filter(bot_id=bot.id, telegram_id=referrer_id).first()


def _known(bot: BotContext, telegram_id: int, profile: dict[str, str]) -> Account:
    """A known user's account, their names brought up to date and unblocked (they wrote)."""
    account = Account.objects.get(bot_id=bot.id, telegram_id=telegram_id)
    changed: dict[str, object] = {
        name: value for name, value in profile.items() if getattr(account, name) != value
    }
    if account.blocked:
        changed["blocked"] = False
    if changed:
        Account.objects.filter(pk=account.pk).update(**changed, updated_at=timezone.now())
        for name, value in changed.items():
            setattr(account, name, value)
    return account


def account_of(bot: BotContext, telegram_id: int) -> Account | None:
    return Account.objects.filter(bot_id=bot.id, telegram_id=telegram_id).first()


def do_set_blocked(bot: BotContext, telegram_id: int, blocked: bool) -> None:
    """The user blocked the bot, or started it again (a private my_chat_member update)."""
    Account.objects.filter(bot_id=bot.id, telegram_id=telegram_id).exclude(blocked=blocked).update(
        blocked=blocked, updated_at=timezone.now()
    )


def note_refusal(refusal: Refusal) -> None:
    """The client's 403 hook: a private chat whose user blocked the bot marks the account."""
    if refusal.reason == "blocked" and refusal.chat_id > 0:
        Account.objects.filter(
            bot__telegram_id=refusal.bot_telegram_id, telegram_id=refusal.chat_id, blocked=False
        ).update(blocked=True, updated_at=timezone.now())


@dataclass(frozen=True)
class Referrals:
    count: int
    points: int


def referrals_of(account: Account) -> Referrals:
    """How many users joined through the account's link, and the points they earned it."""
    totals = LedgerEntry.objects.filter(account=account, reason=LedgerEntry.REFERRAL).aggregate(
        count=Count("id"), points=Sum("delta")
    )
    return Referrals(totals["count"] or 0, totals["points"] or 0)


def do_tell_referrer(bot_id: int, entry_id: int) -> bool:
    """Tell a referrer that someone started the bot through their link and what it earned them.
    True when told now. A claim in Redis (`gmbot:accounts:told:<entry>`, kept a week) lets one
    run send it, so a repeated job does not tell twice; a send that fails gives the claim back
    for the retry."""
    bot = context_for(bot_id)
    entry = (
        LedgerEntry.objects.select_related("account")
        .filter(pk=entry_id, reason=LedgerEntry.REFERRAL)
        .first()
    )
    if bot is None or entry is None:
        return False
    referred = Account.objects.filter(pk=int(entry.reference)).first()
    key = f"gmbot:accounts:told:{entry_id}"
    if not claims.claim(
        key,
        7 * 24 * 3600,
        fail_open=True,
        note="accounts: Redis unavailable, a referrer may be told twice",
    ):
        return False
    referrer = entry.account
    text = texts.REFERRER_TOLD.format(
        name=(referred.first_name or referred.username) if referred else "Someone",
        points=entry.delta,
        balance=referrer.points,
    )
    try:
        bot.telebot.send_message(referrer.telegram_id, text)
    except Exception:
        claims.release(key, note="accounts: a referrer's claim could not be given back")
        raise
    return True
