"""Bots served by this deployment and the Telegram users who own bots and groups."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models

from apps.bots import crypto
from apps.bots.features import FeatureError, check_features


def default_features() -> list[str]:
    """What a bot runs unless told otherwise: the guard. Bots that existed before features
    were configurable got this too (bots.0002), so they keep doing what they did."""
    return ["guard"]


class Owner(models.Model):
    """A Telegram user who owns bots or groups."""

    telegram_id = models.BigIntegerField(unique=True)
    username = models.CharField(max_length=64, blank=True)
    first_name = models.CharField(max_length=128, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["telegram_id"]

    def __str__(self) -> str:
        return f"@{self.username}" if self.username else str(self.telegram_id)


class TelegramUser(models.Model):
    """A person some bot has seen (wrote, joined, pressed a button), with their name as Telegram
    last showed it: what the admin shows beside a bare user id. Telegram's names are the same for
    every bot, so one row per person (apps/bots/people.py keeps them current)."""

    telegram_id = models.BigIntegerField(unique=True)
    first_name = models.CharField(max_length=128, blank=True)
    last_name = models.CharField(max_length=128, blank=True)
    username = models.CharField(max_length=64, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["telegram_id"]
        indexes = [models.Index(fields=["username"], name="telegramuser_username_idx")]

    def __str__(self) -> str:
        name = " ".join(part for part in (self.first_name, self.last_name) if part)
        handle = f"@{self.username}" if self.username else ""
        return " ".join(part for part in (name, handle) if part) or str(self.telegram_id)


class Bot(models.Model):
    """A Telegram bot. Its token is stored encrypted and its webhook secret only as a hash."""

    telegram_id = models.BigIntegerField(unique=True)
    username = models.CharField(max_length=64, unique=True)
    encrypted_token = models.TextField(editable=False)
    # SHA-256 of the secret Telegram sends in X-Telegram-Bot-Api-Secret-Token; it selects the bot.
    webhook_secret_hash = models.CharField(max_length=64, unique=True, editable=False)
    owner = models.ForeignKey(
        Owner, null=True, blank=True, on_delete=models.SET_NULL, related_name="bots"
    )
    is_active = models.BooleanField(default=True)
    # Names from apps/bots/features.py; the core runs whatever this says. A JSON list rather than
    # an ArrayField: the zero-setup SQLite fallback has no arrays.
    features = models.JSONField(
        default=default_features, blank=True, help_text="the features this bot runs"
    )
    # The bot's health (apps/ops/services.py, check_bots): when getMe last answered, and what
    # went wrong the last time it did not. A revoked token deactivates the bot.
    checked_at = models.DateTimeField(null=True, blank=True, editable=False)
    check_error = models.CharField(max_length=255, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["username"]

    def __str__(self) -> str:
        return f"@{self.username}"

    def __repr__(self) -> str:
        # Never the token, never the secret.
        return f"<Bot {self.telegram_id} @{self.username}>"

    def clean(self) -> None:
        """Refuse features no app declares, or two features answering the same command."""
        try:
            self.features = check_features(self.features or [])
        except FeatureError as exc:
            raise ValidationError({"features": str(exc)}) from None

    @property
    def token(self) -> str:
        return crypto.decrypt_token(self.encrypted_token)

    def set_token(self, token: str) -> None:
        self.encrypted_token = crypto.encrypt_token(token)

    def rotate_webhook_secret(self) -> str:
        """Give the bot a new webhook secret and return it; only its hash is kept."""
        secret = crypto.new_webhook_secret()
        self.webhook_secret_hash = crypto.hash_secret(secret)
        return secret
