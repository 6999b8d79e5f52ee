"""Broadcast handlers (SPEC B7): the BAN button under a broadcast, registered on the bots that run
the broadcasts feature. Thin: each calls one service."""

from __future__ import annotations

from telebot.types import CallbackQuery

from apps.bots.context import BotContext
from apps.bots.features import Handlers
from apps.broadcasts.services import bans


def ban_pressed(query: CallbackQuery, bot: BotContext) -> None:
    bans.do_ban_pressed(bot, query)


def register(handlers: Handlers) -> None:
    handlers.callback_query(ban_pressed)
