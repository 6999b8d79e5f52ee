from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.ingress import services
from apps.ingress.management.bots import add_bot_arguments, selected_bots


class Command(BaseCommand):
    help = (
        "Register the webhook with Telegram for one bot or all active bots: a fresh secret "
        "(only its hash is stored), allowed_updates from the routing table (incl. chat_member "
        "and chat_join_request) and max_connections."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        add_bot_arguments(parser)
        parser.add_argument("--url", help="the public base URL (default: WEBHOOK_BASE_URL)")
        parser.add_argument("--max-connections", type=int, default=settings.WEBHOOK_MAX_CONNECTIONS)
        parser.add_argument(
            "--drop-pending-updates",
            action="store_true",
            help="ask Telegram to discard the updates it has not delivered yet",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        base_url = (options["url"] or settings.WEBHOOK_BASE_URL).rstrip("/")
        if not base_url:
            raise CommandError(
                "give --url or set WEBHOOK_BASE_URL (e.g. https://gmbot.example.com)"
            )
        bots = selected_bots(options)
        failed = 0
        for bot in bots:
            try:
                webhook = services.set_webhook(
                    bot,
                    base_url,
                    max_connections=options["max_connections"],
                    drop_pending_updates=options["drop_pending_updates"],
                )
            except services.WebhookError as exc:
                failed += 1
                self.stderr.write(f"{bot}: {exc}")
                continue
            # The secret went to Telegram and its hash to the database; it is never shown.
            self.stdout.write(f"{bot}: webhook set to {webhook.url} with a fresh secret")
        if failed:
            raise CommandError(f"{failed} of {len(bots)} webhook(s) not set")
