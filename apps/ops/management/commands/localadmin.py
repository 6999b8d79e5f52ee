from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from gmbot.env import env


class Command(BaseCommand):
    help = (
        "The local admin login `make up` prints: create the superuser named by "
        "DJANGO_SUPERUSER_USERNAME with DJANGO_SUPERUSER_PASSWORD when it does not exist yet. "
        "DEBUG only; an existing user is left as it is."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        username = env("DJANGO_SUPERUSER_USERNAME")
        password = env("DJANGO_SUPERUSER_PASSWORD")
        if not username or not password:
            self.stdout.write("No local admin login: DJANGO_SUPERUSER_USERNAME or _PASSWORD unset.")
            return
        if not settings.DEBUG:
            # A login whose password sits in .env.example is for a machine of one's own only.
            self.stdout.write(
                "DEBUG is off, so no login is made from .env: use python manage.py createsuperuser."
            )
            return
        users = get_user_model().objects
        if users.filter(username=username).exists():
            self.stdout.write(f"The admin login {username} exists already.")
            return
        users.create_superuser(username=username, email="", password=password)
        self.stdout.write(f"Created the admin login {username}.")
