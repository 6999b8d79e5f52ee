"""The worker side of an update: the bot's observers, then its handlers, once.

The bot's context (apps/bots/context.py) carries its TeleBot with exactly the handlers of the
features it runs; pyTelegramBotAPI runs the first handler that matches. The features' observers
run before it, each on its own: one that fails is logged and never keeps the handlers (or the
other observers) from running.

A finished update is marked done in Redis, so a redelivered job (a worker lost after the work,
before the acknowledgement) does not act twice.
"""

from __future__ import annotations

import logging
from typing import Any

import redis
from django.conf import settings
from telebot.types import Update

from apps.bots.context import BotContext, context_for
from gmbot.redis import get_redis

logger = logging.getLogger(__name__)


def process_update(bot_id: int, update: dict[str, Any]) -> None:
    """Run the observers and handlers for one update. Safe to run twice: a finished update is
    not run again (observers run again only if the handlers failed, so they must tolerate it)."""
    update_id = update["update_id"]
    bot = context_for(bot_id)
    if bot is None:
        logger.info("dispatch: bot %s is gone or inactive; update %s dropped", bot_id, update_id)
        return
    done = _done_key(bot_id, update_id)
    if _already_done(done):
        logger.info("dispatch: update %s of bot %s was already processed", update_id, bot_id)
        return
    parsed = Update.de_json(update)
    _observe(bot, parsed)
    bot.telebot.process_new_updates([parsed])
    _mark_done(done)


def _observe(bot: BotContext, update: Update) -> None:
    for observer in bot.observers:
        try:
            observer(update, bot)
        except Exception:
            logger.exception(
                "dispatch: observer %s failed on update %s of bot %s",
                observer.__qualname__, update.update_id, bot.id,
            )  # fmt: skip


# ---- the done-mark ------------------------------------------------------------------------------


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
