"""API keys (SPEC A1): each speaks for one owner, or for staff."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from rest_framework_api_key.models import AbstractAPIKey

from apps.bots.models import Owner


class APIKey(AbstractAPIKey):
    """A key `<prefix>.<secret>`: the library stores the prefix and a SHA-512 of the whole key,
    never the key itself. Revoking is final; past `expiry_date` the key is refused."""

    owner = models.ForeignKey(
        Owner,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="api_keys",
        help_text="The key sees and acts on this owner's bots and groups only.",
    )
    is_staff = models.BooleanField(
        default=False, help_text="A staff key sees every owner's data. Exclusive with an owner."
    )

    class Meta(AbstractAPIKey.Meta):
        constraints = [
            models.CheckConstraint(
                condition=Q(owner__isnull=False, is_staff=False)
                | Q(owner__isnull=True, is_staff=True),
                name="apikey_owner_xor_staff",
            ),
        ]

    def clean(self) -> None:
        super().clean()
        if (self.owner_id is not None) == self.is_staff:
            raise ValidationError("A key belongs to an owner or is a staff key: choose one.")
