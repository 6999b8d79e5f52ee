"""Bots served by this deployment and the Telegram users who own bots and groups."""

from __future__ import annotations

from django.db import models

from apps.bots import crypto


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
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["username"]

    def __str__(self) -> str:
        return f"@{self.username}"

    def __repr__(self) -> str:
        # Never the token, never the secret.
        return f"<Bot {self.telegram_id} @{self.username}>"

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
