"""The worker side of an update: parse it with pyTelegramBotAPI and run the registered handlers.

One TeleBot per bot per process (`threaded=False`, from apps.telegram.client); every bot gets the
same handlers, registered once per instance from HANDLER_MODULES. Handlers learn which GMBot bot
they serve from `current_bot()`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from importlib import import_module
from typing import Any

import redis
from django.conf import settings
from telebot import TeleBot
from telebot.types import Update

from apps.bots.models import Bot
from apps.bots.services import BotRef
from apps.telegram.client import telebot_for_token
from gmbot.redis import get_redis

logger = logging.getLogger(__name__)

# Each module has `register(bot: TeleBot) -> None`; order is the order handlers are tried in.
HANDLER_MODULES = (
    "apps.ingress.handlers",
    "apps.guard.handlers",
)

_current_bot: ContextVar[BotRef] = ContextVar("gmbot_current_bot")
_prepared: set[int] = set()
_BOT_TTL = 60.0
_bots: dict[int, tuple[Bot | None, float]] = {}


def current_bot() -> BotRef:
    """The bot whose update is being handled."""
    return _current_bot.get()


@contextmanager
def serving(bot: BotRef) -> Iterator[None]:
    token = _current_bot.set(bot)
    try:
        yield
    finally:
        _current_bot.reset(token)


def telebot_with_handlers(bot: Bot) -> TeleBot:
    telebot = telebot_for_token(bot.token)
    if id(telebot) not in _prepared:
        for module in HANDLER_MODULES:
            import_module(module).register(telebot)
        _prepared.add(id(telebot))
    return telebot


def _load_bot(bot_id: int) -> Bot | None:
    now = time.monotonic()
    cached = _bots.get(bot_id)
    if cached is None or cached[1] <= now:
        cached = (Bot.objects.filter(pk=bot_id, is_active=True).first(), now + _BOT_TTL)
        _bots[bot_id] = cached
    return cached[0]


def _done_key(bot_id: int, update_id: int) -> str:
    return f"gmbot:done:{bot_id}:{update_id}"


def _already_done(key: str) -> bool:
    try:
        return bool(get_redis().exists(key))
    except redis.RedisError:
        return False  # at worst a redelivered job runs again; never drop an update


def _mark_done(key: str) -> None:
    try:
        get_redis().set(key, "1", ex=settings.UPDATE_DONE_SECONDS)
    except redis.RedisError:
        logger.warning("dispatch: could not record a processed update")


def process_update(bot_id: int, update: dict[str, Any]) -> None:
    """Run the handlers for one update. Safe to run twice: a finished update is not re-run."""
    update_id = update["update_id"]
    bot = _load_bot(bot_id)
    if bot is None:
        logger.info("dispatch: bot %s is gone or inactive; update %s dropped", bot_id, update_id)
        return
    done = _done_key(bot_id, update_id)
    if _already_done(done):
        logger.info("dispatch: update %s of bot %s was already processed", update_id, bot_id)
        return
    telebot = telebot_with_handlers(bot)
    ref = BotRef(id=bot.pk, telegram_id=bot.telegram_id, username=bot.username)
    with serving(ref):
        telebot.process_new_updates([Update.de_json(update)])
    _mark_done(done)
