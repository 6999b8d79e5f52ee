"""The bot in private chats (SPEC D1-D7): its users, their points ledger, the groups that give
their admins unlimited points, and the bots users cloned.

The balance (`Account.points`) is kept beside the ledger for a cheap read and guarded by the
database: a CHECK keeps it from going below zero, and it changes only by conditional UPDATEs made
in the same transaction as the ledger row that explains them (apps/accounts/services/ledger.py).
The ledger's unique keys make every grant happen once: the start bonus per user, the referral per
referred user, the daily grant per user per day, a charge per button press or command.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from apps.bots.models import Bot
from apps.chats.models import Group


class Account(models.Model):
    """A Telegram user who started one bot in a private chat. Points are per bot: each bot (a
    clone too) is a service of its own, with its own referral links."""

    bot = models.ForeignKey(Bot, on_delete=models.CASCADE, related_name="accounts")
    telegram_id = models.BigIntegerField(help_text="the user's Telegram id (= the private chat)")
    username = models.CharField(max_length=64, blank=True)
    first_name = models.CharField(max_length=128, blank=True)
    last_name = models.CharField(max_length=128, blank=True)
    language_code = models.CharField(max_length=16, blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    # The user blocked the bot (my_chat_member, or a send refused with 403); /start clears it.
    blocked = models.BooleanField(default=False)
    points = models.IntegerField(default=0, editable=False)
    # Checks are free until then (SPEC D4: /activate in a group the user admins).
    unlimited_until = models.DateTimeField(null=True, blank=True, editable=False)
    referred_by = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="referrals"
    )
    # The last day the daily grant reached this account: lets a repeated run skip it cheaply.
    # The ledger's unique key, not this column, is what makes the grant happen once.
    daily_granted_on = models.DateField(null=True, blank=True, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["bot", "telegram_id"]
        constraints = [
            models.UniqueConstraint(fields=["bot", "telegram_id"], name="account_unique_bot_user"),
            models.CheckConstraint(
                condition=Q(points__gte=0), name="account_points_never_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"@{self.username}" if self.username else str(self.telegram_id)


class LedgerEntry(models.Model):
    """One change of an account's points and why. Never edited: a correction is a new row."""

    START = "start"
    REFERRAL = "referral"
    DAILY = "daily"
    CHECK_LIVE = "check_live"
    REASONS = [
        (START, "start bonus"),
        (REFERRAL, "a friend joined through the referral link"),
        (DAILY, "daily points"),
        (CHECK_LIVE, "checked who is live"),
    ]

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="ledger")
    delta = models.IntegerField()
    reason = models.CharField(max_length=16, choices=REASONS)
    # What makes the change unique within its reason: the referred account, the day, the press.
    reference = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "ledger entries"
        constraints = [
            # The start bonus once per account, the daily grant once per account and day, a
            # charge once per press: a repeated job inserts nothing and so changes nothing.
            models.UniqueConstraint(
                fields=["account", "reason", "reference"], name="ledger_once_per_reference"
            ),
            # A referred user earns their referrer points once, whoever the link named.
            models.UniqueConstraint(
                fields=["reference"],
                condition=Q(reason="referral"),
                name="ledger_one_referral_per_user",
            ),
            models.CheckConstraint(condition=~Q(delta=0), name="ledger_delta_not_zero"),
        ]

    def __str__(self) -> str:
        return f"{self.account} {self.delta:+d} {self.reason}"


class GroupRegistration(models.Model):
    """A group an account's user registered with /init (SPEC D4); /activate there grants them
    unlimited points while they are still one of its admins."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="groups")
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="registrations")
    registered_at = models.DateTimeField(auto_now_add=True)
    activated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-registered_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "group"], name="registration_unique_account_group"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.group} for {self.account}"


class Clone(models.Model):
    """A bot a user added with /clone (SPEC D7). The Bot row holds the token (encrypted) and
    the owner; this row says it is a clone and of which bot, so its owner may remove it."""

    bot = models.OneToOneField(Bot, on_delete=models.CASCADE, related_name="clone")
    parent = models.ForeignKey(
        Bot, null=True, blank=True, on_delete=models.SET_NULL, related_name="clones"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.bot} (clone of {self.parent})"
