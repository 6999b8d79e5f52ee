"""One bot, as everything that handles its updates sees it: a `BotContext`, built once.

What travels is the bot's primary key (the webhook knows a `BotRef`, the task carries its id). A
worker turns the id into a BotContext: the ref, the features the bot runs, their observers, and
the bot's TeleBot with exactly those features' handlers registered. Handlers, observers and
services receive that one object, always named `bot`; they call Telegram as `bot.telebot.…`.

Cached per process: the row is read again at most every ROW_TTL seconds, so a deactivated bot
stops being served within a minute; the TeleBot and its handlers are built again only when the
token, the username or the features changed, so the token is decrypted once per reload, not per
update.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

from telebot import TeleBot

from apps.bots import features
from apps.bots.features import Observer
from apps.bots.models import Bot
from apps.bots.services import BotRef
from apps.telegram.client import new_telebot

ROW_TTL = 60.0


@dataclass(frozen=True, eq=False)
class BotContext:
    ref: BotRef
    features: tuple[str, ...]
    observers: tuple[Observer, ...]
    telebot: TeleBot

    @property
    def id(self) -> int:
        """The Bot row's primary key (what chat-scoped rows reference)."""
        return self.ref.id

    @property
    def telegram_id(self) -> int:
        return self.ref.telegram_id

    @property
    def username(self) -> str:
        return self.ref.username

    def __repr__(self) -> str:
        return f"<BotContext {self.ref.telegram_id} @{self.ref.username} {list(self.features)}>"


@dataclass(frozen=True)
class _Cached:
    bot: BotContext | None
    fingerprint: tuple[str, str, tuple[str, ...]] | None  # token digest, username, features
    expires: float


_cache: dict[int, _Cached] = {}


def ref_of(row: Bot) -> BotRef:
    return BotRef(id=row.pk, telegram_id=row.telegram_id, username=row.username)


def context_for(bot_id: int) -> BotContext | None:
    """The context of the active bot with this primary key, or None when it is gone or
    inactive. One query per bot per ROW_TTL seconds."""
    now = time.monotonic()
    cached = _cache.get(bot_id)
    if cached is not None and cached.expires > now:
        return cached.bot
    row = Bot.objects.filter(pk=bot_id, is_active=True).first()
    if row is None:
        _cache[bot_id] = _Cached(None, None, now + ROW_TTL)
        return None
    names = tuple(row.features or ())
    fingerprint = (hashlib.sha256(row.token.encode()).hexdigest(), row.username, names)
    if cached is not None and cached.bot is not None and cached.fingerprint == fingerprint:
        bot = cached.bot
    else:
        bot = BotContext(
            ref=ref_of(row),
            features=names,
            observers=features.observers(names),
            telebot=new_telebot(row.token),
        )
        features.install(bot)
    _cache[bot_id] = _Cached(bot, fingerprint, now + ROW_TTL)
    return bot
