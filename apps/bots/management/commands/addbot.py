from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.bots.features import FeatureError, choices
from apps.bots.services import BotTokenError, do_add_bot

READ_STDIN = "-"


def _names(value: str) -> list[str]:
    return [name.strip() for name in value.split(",") if name.strip()]


class Command(BaseCommand):
    help = (
        "Add a bot by its token: checks it with getMe and stores it encrypted. Running it again "
        "for the same bot updates the token. Its updates then come by `setwebhook` (which makes "
        "the webhook secret) or `runbot`."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--token", help="the bot token from @BotFather (or '-' to read stdin)")
        parser.add_argument("--owner", type=int, help="the owner's Telegram user id")
        parser.add_argument(
            "--features",
            type=_names,
            help="what the bot runs, comma-separated (default for a new bot: guard; a known bot "
            f"keeps its own); one of: {', '.join(name for name, _ in choices())}",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        token = options["token"]
        if not token or token == READ_STDIN:
            # Reading from stdin keeps the token out of the shell history and `ps`.
            token = sys.stdin.readline().strip()
        if not token:
            raise CommandError("give the token with --token or on standard input")
        try:
            added = do_add_bot(
                token, owner_telegram_id=options["owner"], features=options["features"]
            )
        except (BotTokenError, FeatureError) as exc:
            raise CommandError(str(exc)) from None
        bot = added.bot
        verb = "Added" if added.created else "Updated"
        self.stdout.write(f"{verb} {bot!s} (id {bot.telegram_id}).")
        self.stdout.write(
            f"Next: python manage.py setwebhook --bot {bot!s} points Telegram at this deployment "
            "with a fresh webhook secret (only its hash is kept), or, without a public URL, "
            f"python manage.py runbot --bot {bot!s} fetches the updates itself."
        )
