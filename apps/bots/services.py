"""Adding bots: the token is checked with Telegram before anything is stored."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db import transaction
from telebot.apihelper import ApiTelegramException

from apps.bots.models import Bot, Owner
from apps.telegram.client import telebot_for_token

TOKEN_RE = re.compile(r"^\d{1,20}:[A-Za-z0-9_-]{1,100}$")


class BotTokenError(ValueError):
    """The token is malformed or Telegram refused it."""


@dataclass(frozen=True)
class AddedBot:
    bot: Bot
    created: bool
    webhook_secret: str | None  # shown once; only its hash is stored


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
    except ApiTelegramException as exc:
        raise BotTokenError(f"Telegram refused the token: {exc.description}") from None
    if not me.is_bot:
        raise BotTokenError("the token does not belong to a bot")
    return BotIdentity(telegram_id=me.id, username=me.username or "")


@transaction.atomic
def do_add_bot(
    token: str, *, owner_telegram_id: int | None = None, new_secret: bool = False
) -> AddedBot:
    """Store (or update) the bot behind a checked token. Locks the bot's row while it writes."""
    me = check_bot_token(token)
    bot = Bot.objects.select_for_update().filter(telegram_id=me.telegram_id).first()
    created = bot is None
    if bot is None:
        bot = Bot(telegram_id=me.telegram_id)
    bot.username = me.username
    bot.set_token(token)
    bot.is_active = True
    secret = bot.rotate_webhook_secret() if created or new_secret else None
    if owner_telegram_id is not None:
        bot.owner, _ = Owner.objects.get_or_create(telegram_id=owner_telegram_id)
    bot.save()
    return AddedBot(bot=bot, created=created, webhook_secret=secret)
