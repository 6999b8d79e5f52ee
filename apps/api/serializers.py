"""What the API reads and writes. Request serializers refuse what they do not know."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail, ValidationError

from apps.api.fields import StrictBooleanField, StrictIntegerField, TenantRef
from apps.api.pagination import MAX_PAGE_SIZE
from apps.bots.models import Bot
from apps.chats.models import Group, GroupChannelLink


class StrictSerializer(serializers.Serializer):
    """A request's query parameters or body. DRF silently drops fields a serializer does not
    declare (and read-only ones): a typo would then change nothing and answer 200. Here each is
    refused, by name, together with the other errors."""

    def to_internal_value(self, data: Any) -> Any:
        unknown: dict[str, list[ErrorDetail]] = {}
        if isinstance(data, Mapping):
            known = [name for name, field in self.fields.items() if not field.read_only]
            takes = ", ".join(known) if known else "nothing"
            message = f"Unknown here; this endpoint takes: {takes}."
            unknown = {
                str(name): [ErrorDetail(message, code="unknown")]
                for name in data
                if name not in known
            }
        try:
            value = super().to_internal_value(data)
        except ValidationError as exc:
            if unknown and isinstance(exc.detail, dict):
                raise ValidationError({**exc.detail, **unknown}) from None
            raise
        if unknown:
            raise ValidationError(unknown)
        return value


class PageQuery(StrictSerializer):
    """The query parameters of a listing (pagination.CursorPage reads them)."""

    cursor = serializers.CharField(
        required=False,
        help_text="Where the page starts: the `next` or `previous` link of the page before.",
    )
    page_size = StrictIntegerField(
        required=False, min_value=1, max_value=MAX_PAGE_SIZE, help_text="Results per page."
    )


class GroupQuery(PageQuery):
    bot = TenantRef(Bot, to_field="telegram_id", required=False, help_text="The bot's Telegram id.")
    enabled = StrictBooleanField(required=False, help_text="Only enabled, or only disabled groups.")
    protected = StrictBooleanField(
        required=False,
        help_text="Only protected groups (enabled, at least one linked channel, not paused), or "
        "only the others.",
    )


class GroupBotSerializer(serializers.ModelSerializer):
    id = serializers.IntegerField(source="telegram_id", help_text="The bot's Telegram id.")

    class Meta:
        model = Bot
        fields = ["id", "username"]


class GroupChannelSerializer(serializers.ModelSerializer):
    """A channel the group requires its members to join."""

    chat_id = serializers.IntegerField(source="channel.chat_id")
    title = serializers.CharField(source="channel.title")
    username = serializers.CharField(source="channel.username")

    class Meta:
        model = GroupChannelLink
        fields = ["chat_id", "title", "username"]


class GroupSerializer(serializers.ModelSerializer):
    bot = GroupBotSerializer(read_only=True)
    owner = serializers.IntegerField(
        source="owner.telegram_id",
        allow_null=True,
        read_only=True,
        help_text="The Telegram id of the user who set up the group's protection.",
    )
    protected = serializers.BooleanField(
        read_only=True, help_text="Enabled, at least one linked channel, and not paused."
    )
    channels = GroupChannelSerializer(source="channel_links", many=True, read_only=True)

    class Meta:
        model = Group
        fields = [
            "id", "chat_id", "title", "bot", "owner", "enabled", "protected", "channels",
            "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields  # a listing: nothing here is written through the API
