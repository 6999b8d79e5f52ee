"""The one way `setwebhook` and `runbot` are told which bots to act on."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from apps.bots.models import Bot
from apps.ingress import services


def add_bot_arguments(parser: CommandParser) -> None:
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--bot", help="the bot's username (with or without @) or Telegram id")
    which.add_argument("--all", action="store_true", help="every active bot")


def selected_bots(options: dict[str, Any]) -> list[Bot]:
    bots = services.select_bots(options["bot"], everyone=options["all"])
    if not bots:
        which = "no active bots" if options["all"] else f"no active bot {options['bot']}"
        raise CommandError(f"{which}: add one with python manage.py addbot --token -")
    return bots
