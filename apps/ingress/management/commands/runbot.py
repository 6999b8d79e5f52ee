from __future__ import annotations

import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.ingress import services


class Command(BaseCommand):
    help = (
        "Long-poll getUpdates for one or all bots and feed the same routing as the webhook: "
        "for machines without a public URL. Telegram refuses getUpdates while a webhook is set "
        "(use --delete-webhook)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--bot", help="the bot's username or Telegram id")
        which.add_argument("--all", action="store_true", help="every active bot")
        parser.add_argument(
            "--delete-webhook", action="store_true", help="remove the bots' webhooks first"
        )
        parser.add_argument("--timeout", type=int, default=25, help="long-poll seconds")

    def handle(self, *args: Any, **options: Any) -> None:
        bots = services.select_bots(options["bot"], everyone=options["all"])
        if not bots:
            raise CommandError("no such active bot")
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
