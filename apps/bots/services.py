"""Adding bots: the token is checked with Telegram before anything is stored."""

from __future__ import annotations

import contextlib
import re
import time
from dataclasses import dataclass

from django.db import Error, connection, transaction

from apps.bots import crypto
from apps.bots.features import check_features
from apps.bots.models import Bot, Owner
from apps.telegram.client import telebot_for_token
from apps.telegram.errors import OutcomeUnknown, RetryAfter, TelegramError, TransientError

TOKEN_RE = re.compile(r"^\d{1,20}:[A-Za-z0-9_-]{1,100}$")
# A token as @BotFather issues them (the bot's id, a colon, 35 characters), found anywhere in a
# text: what must never be kept or shown in plain text (apps/ingress/sealing.py, apps/accounts).
TOKEN_IN_TEXT = re.compile(r"\d{5,20}:[A-Za-z0-9_-]{30,100}")


class BotTokenError(ValueError):
    """The token is malformed or Telegram refused it."""


@dataclass(frozen=True)
class AddedBot:
    bot: Bot
    created: bool


@dataclass(frozen=True)
class BotIdentity:
    telegram_id: int
    username: str


def check_bot_token(token: str) -> BotIdentity:
    """Ask Telegram who this token belongs to (getMe). Returns the bot's User fields."""
    if not TOKEN_RE.match(token):
        raise BotTokenError("that is not a bot token (expected <digits>:<letters, digits, _ or ->)")
    try:
        me = telebot_for_token(token).get_me()
    except (RetryAfter, TransientError, OutcomeUnknown) as exc:
        # Telegram is down, slow or busy: the token may well be good, so say so rather than
        # calling it refused.
        raise BotTokenError(
            f"Telegram did not answer ({exc.description}), so the token is not checked yet and "
            "nothing was stored: try again in a minute"
        ) from None
    except TelegramError as exc:
        raise BotTokenError(f"Telegram refused the token: {exc.description}") from None
    if not me.is_bot:
        raise BotTokenError("the token does not belong to a bot")
    return BotIdentity(telegram_id=me.id, username=me.username or "")


@transaction.atomic
def do_add_bot(
    token: str,
    *,
    owner_telegram_id: int | None = None,
    features: list[str] | None = None,
) -> AddedBot:
    """Store (or update) the bot behind a checked token. `features` replaces what the bot runs
    (validated first, with no call); None keeps a known bot's and gives a new one the default.
    Locks the bot's row while it writes."""
    if features is not None:
        features = check_features(features)
    me = check_bot_token(token)
    row = Bot.objects.select_for_update().filter(telegram_id=me.telegram_id).first()
    created = row is None
    if row is None:
        row = Bot(telegram_id=me.telegram_id)
    if features is not None:
        row.features = features
    row.username = me.username
    row.set_token(token)
    row.is_active = True
    if created:
        # A secret nobody holds, so the row is complete: `setwebhook` is the one place a secret
        # is made and handed to Telegram (its hash replaces this one).
        row.rotate_webhook_secret()
    if owner_telegram_id is not None:
        row.owner, _ = Owner.objects.get_or_create(telegram_id=owner_telegram_id)
    row.save()
    return AddedBot(bot=row, created=created)


@dataclass(frozen=True)
class BotRef:
    """What the webhook needs to know about a bot: no token, nothing to decrypt."""

    id: int
    telegram_id: int
    username: str


_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_FOUND_TTL = 60.0  # a deactivated bot stops being served within a minute
_MISSING_TTL = 5.0  # unknown secrets are remembered briefly so a flood of them costs no queries
_CACHE_LIMIT = 10_000
_by_secret_hash: dict[str, tuple[BotRef | None, float]] = {}


class BotLookupUnavailable(Exception):
    """The database cannot be asked about a secret that is not cached: nothing can be decided."""


def bot_for_webhook_secret(secret: str | None) -> BotRef | None:
    """The active bot whose webhook secret this is, or None. Cached in the process.

    Only a string Telegram could have sent (1-256 of A-Z, a-z, 0-9, _ and -) is looked up; the
    stored SHA-256 is compared in constant time. Raises BotLookupUnavailable when the secret is
    not cached and the database cannot answer.
    """
    if not secret or not _SECRET_RE.match(secret):
        return None
    digest = crypto.hash_secret(secret)
    now = time.monotonic()
    cached = _by_secret_hash.get(digest)
    if cached is not None and cached[1] > now:
        return cached[0]

    row = _bot_row(digest)
    ref = None
    if row is not None and crypto.secret_matches(secret, row[3]):
        ref = BotRef(id=row[0], telegram_id=row[1], username=row[2])
    if len(_by_secret_hash) >= _CACHE_LIMIT:
        _by_secret_hash.clear()
    _by_secret_hash[digest] = (ref, now + (_FOUND_TTL if ref else _MISSING_TTL))
    return ref


def _bot_row(digest: str) -> tuple[int, int, str, str] | None:
    """The active bot row with this secret hash, asked on a working connection.

    The webhook's fast path (apps/ingress/wsgi.py) runs outside Django's request cycle, so
    nothing else closes a connection that PostgreSQL dropped (a restart, a terminated backend),
    and every later query would fail on it. A failed query closes the connection; when it was one
    kept from an earlier request, the question is asked once more on a new one.
    """
    reused = connection.connection is not None
    try:
        return _ask_for_bot_row(digest)
    except BotLookupUnavailable:
        if not reused:
            raise
        return _ask_for_bot_row(digest)


def _ask_for_bot_row(digest: str) -> tuple[int, int, str, str] | None:
    try:
        return (
            Bot.objects.filter(webhook_secret_hash=digest, is_active=True)
            .values_list("id", "telegram_id", "username", "webhook_secret_hash")
            .first()
        )
    except Error as exc:
        with contextlib.suppress(Error):
            connection.close()
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise BotLookupUnavailable(f"{type(exc).__name__}: {first_line}") from exc


def forget_cached_bots() -> None:
    _by_secret_hash.clear()
