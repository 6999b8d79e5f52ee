"""The worker side of an update: the bot's observers, then its handlers, once, in its chat's order.

The bot's context (apps/bots/context.py) carries its TeleBot with exactly the handlers of the
features it runs; pyTelegramBotAPI runs the first handler that matches. The features' observers
run before it, each on its own: one that fails is logged and never keeps the handlers (or the
other observers) from running.

An update waits for its turn in its chat's line (apps/ingress/ordering.py) before it runs, so a
chat's updates are acted on in Telegram's order however many jobs a worker runs at once.

A finished update is marked done in Redis, so a redelivered job (a worker lost after the work,
before the acknowledgement) does not act twice. The done-mark and the line cost one round trip
at the start of a job (pipelined) and one at its end.
"""

from __future__ import annotations

import logging
from typing import Any

import redis
from django.conf import settings
from telebot.types import Update

from apps.bots.context import BotContext, context_for
from apps.ingress.ordering import Turn
from gmbot.redis import get_redis

logger = logging.getLogger(__name__)


def process_update(bot_id: int, update: dict[str, Any]) -> None:
    """Run the observers and handlers for one update, after the chat's earlier updates. Safe to
    run twice: a finished update is not run again (observers run again only if the handlers
    failed, so they must tolerate it)."""
    update_id = update["update_id"]
    turn: Turn | None = None
    done = _done_key(bot_id, update_id)
    finished = False
    try:
        bot = context_for(bot_id)
        # The line the webhook put the update in (its key depends on who made a member change).
        turn = Turn.of(bot_id, bot.telegram_id if bot is not None else None, update)
        if bot is None:
            logger.info(
                "dispatch: bot %s is gone or inactive; update %s dropped", bot_id, update_id
            )
            return
        already, place = _start(done, turn)
        if already:
            logger.info("dispatch: update %s of bot %s was already processed", update_id, bot_id)
            return
        if turn is not None:
            turn.wait(place)
        parsed = Update.de_json(update)
        _observe(bot, parsed)
        bot.telebot.process_new_updates([parsed])
        finished = True
    finally:
        _end(done if finished else None, turn)


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


def _start(done: str, turn: Turn | None) -> tuple[bool, int | None]:
    """Whether the update was done before, and its place in its line: one round trip."""
    try:
        pipe = get_redis().pipeline(transaction=False)
        pipe.exists(done)
        if turn is not None:
            turn.ask_place(pipe)
        answers = pipe.execute()
    except redis.RedisError:
        return False, None  # at worst a redelivered job runs again; never drop an update
    return bool(answers[0]), answers[1] if turn is not None else None


def _end(done: str | None, turn: Turn | None) -> None:
    """Mark the update done (`done`: its key, when it ran to the end) and leave its line."""
    if done is None and turn is None:
        return
    try:
        pipe = get_redis().pipeline(transaction=False)
        if done is not None:
            pipe.set(done, "1", ex=settings.UPDATE_DONE_SECONDS)
        if turn is not None:
            turn.leave(pipe)
        pipe.execute()
    except redis.RedisError:
        # The line's head is passed after ordering.WAIT_SECONDS; a redelivery may run again.
        logger.warning("dispatch: could not record a processed update")
