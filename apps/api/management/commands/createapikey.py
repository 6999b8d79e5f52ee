"""`manage.py createapikey --owner <telegram id> | --staff --name NAME [--expires-in DAYS]`.

Prints the key once, alone on stdout (for a script to capture); only its hash is kept.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from apps.api.models import APIKey
from apps.bots.models import Owner


class Command(BaseCommand):
    help = "Create an API key for an owner (or a staff key) and print it once."

    def add_arguments(self, parser: CommandParser) -> None:
        holder = parser.add_mutually_exclusive_group(required=True)
        holder.add_argument("--owner", type=int, help="the owner's Telegram user id")
        holder.add_argument("--staff", action="store_true", help="a key that sees every owner")
        parser.add_argument("--name", required=True, help="what the key is for (50 characters)")
        parser.add_argument("--expires-in", type=int, metavar="DAYS", help="refused after that")

    def handle(self, *args: Any, **options: Any) -> None:
        owner = None
        if options["owner"] is not None:
            owner = Owner.objects.filter(telegram_id=options["owner"]).first()
            if owner is None:
                raise CommandError(f"No owner with Telegram id {options['owner']}.")
        name = options["name"].strip()
        if not name or len(name) > 50:
            raise CommandError("--name must be 1 to 50 characters.")
        days = options["expires_in"]
        if days is not None and days < 1:
            raise CommandError("--expires-in must be at least 1 day.")
        expiry = timezone.now() + timedelta(days=days) if days else None
        api_key, key = APIKey.objects.create_key(
            name=name, owner=owner, is_staff=options["staff"], expiry_date=expiry
        )
        holder = "staff" if owner is None else f"owner {owner}"
        self.stderr.write(
            f"API key {api_key.prefix} ({holder}) created. It is shown once, below: store it "
            "now, only its hash is kept."
        )
        self.stdout.write(key)
