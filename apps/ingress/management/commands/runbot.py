from __future__ import annotations

import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.bots.models import Bot
from apps.ingress import services
from apps.ingress.management.bots import add_bot_arguments, selected_bots
from apps.telegram.client import telebot_for_token
from apps.telegram.errors import TelegramError


class Command(BaseCommand):
    help = (
        "Long-poll getUpdates for one or all bots and feed the same routing as the webhook: "
        "for machines without a public URL. Telegram refuses getUpdates while a webhook is set "
        "(use --delete-webhook)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        add_bot_arguments(parser)
        parser.add_argument(
            "--delete-webhook", action="store_true", help="remove the bots' webhooks first"
        )
        parser.add_argument("--timeout", type=int, default=25, help="long-poll seconds")

    def handle(self, *args: Any, **options: Any) -> None:
        bots = selected_bots(options)
        if not options["delete_webhook"]:
            for bot in bots:
                refuse_if_webhook_set(bot)
        stop = threading.Event()
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        if options["delete_webhook"]:
            for bot in bots:
                services.delete_webhook(bot)
        threads = [
            threading.Thread(
                target=services.poll_forever,
                args=(bot, stop),
                kwargs={"timeout": options["timeout"]},
                name=f"poll-{bot.username}",
                daemon=True,
            )
            for bot in bots
        ]
        for thread in threads:
            thread.start()
        self.stdout.write(f"Polling {', '.join(str(bot) for bot in bots)}; Ctrl-C stops.")
        while not stop.wait(0.5):
            pass
        for thread in threads:
            thread.join(timeout=options["timeout"] + 5)


def refuse_if_webhook_set(bot: Bot) -> None:
    """Telegram answers every getUpdates with a Conflict while a webhook is set: say so once,
    rather than polling into that refusal for ever."""
    try:
        url = telebot_for_token(bot.token).get_webhook_info().url
    except TelegramError as exc:
        raise CommandError(f"{bot}: Telegram refused getWebhookInfo: {exc.description}") from None
    if url:
        raise CommandError(
            f"{bot} has a webhook set ({url}) and Telegram refuses getUpdates while it has one: "
            "run again with --delete-webhook to remove it and poll instead."
        )
