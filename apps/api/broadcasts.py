"""The broadcasts' endpoints (SPEC A2, B1, B5, B6, D8): `POST /api/send_messages`,
`GET`/`DELETE /api/broadcasts/<id>` and `POST /api/live`, on the API framework (keys, tenancy,
throttling, the error shape, the schema). Thin: parse, then one service each."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import RegexValidator
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from apps.api.fields import StrictBooleanField, TenantRef, TenantRefList
from apps.api.serializers import StrictSerializer
from apps.api.views import ScopedAPIView
from apps.bots.models import Bot, Owner
from apps.broadcasts.models import Broadcast
from apps.broadcasts.services import creation, deletion, progress
from apps.chats.models import Group
from apps.live.models import LiveEntry
from apps.live.services import do_upsert_live

# What the schema promises is what validation takes: patterns say it, so a request the schema
# calls valid is never refused (the fuzz run holds the API to that).
# No `\s` in them: Python's counts \x1c-\x1f and \x85 as spaces and the schema's JavaScript
# dialect does not (and the other way round for \ufeff), so each pattern names, code point by
# code point, what either dialect calls a space.
SPACE = r"\t\n\v\f\r \x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
LINK = RegexValidator(
    rf"^https?://[A-Za-z0-9.-]+(:[0-9]{{1,5}})?(/[^{SPACE}\x00]*)?$", "An http(s) URL."
)
SOME_TEXT = RegexValidator(
    rf"^[^\x00]*[^{SPACE}\x00][^\x00]*$", "Some text, without NUL characters."
)
ONE_WORD = RegexValidator(rf"^[^{SPACE}\x00]+$", "No spaces or NUL characters.")
MAX_GROUPS = 10_000


def _refused(exc: DjangoValidationError) -> ValidationError:
    return ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)


class SendMessagesRequest(StrictSerializer):
    bot = TenantRef(Bot, to_field="telegram_id", help_text="The sending bot's Telegram id.")
    text = serializers.CharField(
        max_length=creation.CAPTION_MAX,
        trim_whitespace=False,
        validators=[SOME_TEXT],
        help_text="The message, or the photo's caption when `photo` is given. A debug code "
        "(`DBG:xxxxxx`) is added on a line of its own.",
    )
    photo = serializers.CharField(
        required=False,
        max_length=500,
        trim_whitespace=False,
        validators=[ONE_WORD],
        help_text="A Telegram file id or an http(s) URL: the message becomes a photo.",
    )
    live = TenantRef(
        LiveEntry, required=False, help_text="The live entry promoted (its id, `POST /api/live`)."
    )
    join_url = serializers.CharField(
        required=False,
        max_length=500,
        trim_whitespace=False,
        validators=[LINK],
        help_text="JOIN LIVE's URL; by default the live entry's. One of the two is required.",
    )
    ban_button = StrictBooleanField(
        required=False, help_text="Add the BAN button (needs `live`): a group admin who presses "
        "it stops this live entry from being promoted in that group."
    )  # fmt: skip
    groups = TenantRefList(
        Group,
        required=False,
        min_length=1,
        max_length=MAX_GROUPS,
        help_text="Only these groups (ids from `GET /api/groups`); by default every enabled "
        "group of the bot.",
    )
    paid = StrictBooleanField(
        required=False,
        help_text="Send with allow_paid_broadcast (up to the bot's paid rate, 0.1 Star each); "
        "the bot must allow paid broadcasting.",
    )

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        try:
            creation.check_broadcast(data["bot"], creation.BroadcastSpec.of(data))
        except DjangoValidationError as exc:
            raise _refused(exc) from None
        return data


class ProgressSerializer(serializers.Serializer):
    """What `progress` holds (documentation only)."""

    status = serializers.CharField()
    status_reason = serializers.CharField()
    targets = serializers.IntegerField()
    pending = serializers.IntegerField()
    sent = serializers.IntegerField()
    skipped = serializers.IntegerField()
    failed = serializers.IntegerField()
    unknown = serializers.IntegerField(help_text="Claimed but no answer recorded: never re-sent.")
    stars_estimated = serializers.CharField(help_text="Decimal Stars; 0 unless paid.")
    stars_spent = serializers.CharField(help_text="Decimal Stars; 0 unless paid.")
    deletion = serializers.CharField()
    deletions = serializers.DictField(child=serializers.IntegerField())


class BroadcastSerializer(serializers.ModelSerializer):
    bot = serializers.IntegerField(source="bot.telegram_id", read_only=True)
    live = serializers.IntegerField(source="live_id", allow_null=True, read_only=True)
    # Plain strings: empty means "the live entry's URL", which a `uri` format would refuse.
    join_url = serializers.CharField(read_only=True)
    progress = serializers.SerializerMethodField()

    class Meta:
        model = Broadcast
        fields = [
            "id", "bot", "live", "text", "photo", "join_url", "ban_button", "all_groups", "paid",
            "status", "status_reason", "deletion", "created_at", "started_at", "finished_at",
            "progress",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(ProgressSerializer)
    def get_progress(self, broadcast: Broadcast) -> dict[str, Any]:
        found = progress.progress(broadcast)
        for name in ("stars_estimated", "stars_spent"):
            found[name] = str(found[name])
        return found


@extend_schema(summary="Send a broadcast to the bot's groups", responses={201: BroadcastSerializer})
class SendMessages(ScopedAPIView):
    """Create a broadcast and start it: every enabled group of the bot (or the chosen groups)
    gets the message once, paced; `GET /api/broadcasts/<id>` shows its progress."""

    model = Broadcast
    serializer_class = SendMessagesRequest

    def post(self, request: Request) -> Response:
        body = self.get_serializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        spec = creation.BroadcastSpec.of(data)
        broadcast = creation.do_create_broadcast(data["bot"], spec, via="api")
        return Response(BroadcastSerializer(broadcast).data, status=status.HTTP_201_CREATED)


@extend_schema(responses={200: BroadcastSerializer})
class BroadcastDetail(ScopedAPIView):
    model = Broadcast
    serializer_class = BroadcastSerializer

    @extend_schema(summary="A broadcast and its progress")
    def get(self, request: Request, pk: int) -> Response:
        return Response(BroadcastSerializer(self.get_object()).data)

    @extend_schema(
        summary="Delete a broadcast everywhere it was sent",
        request=None,
        responses={202: BroadcastSerializer},
    )
    def delete(self, request: Request, pk: int) -> Response:
        """Stop sending it and delete every message it posted, paced like sending; each
        deletion's outcome is counted in `progress.deletions`. Asking again changes nothing."""
        broadcast = self.get_object()
        deletion.do_request_deletion(broadcast)
        broadcast.refresh_from_db()
        return Response(BroadcastSerializer(broadcast).data, status=status.HTTP_202_ACCEPTED)


class LiveRequest(StrictSerializer):
    owner = TenantRef(
        Owner,
        to_field="telegram_id",
        required=False,
        help_text="The owner's Telegram id: required with a staff key, else the key's own.",
    )
    platform = serializers.CharField(max_length=32, trim_whitespace=False, validators=[ONE_WORD])
    handle = serializers.CharField(max_length=64, trim_whitespace=False, validators=[ONE_WORD])
    title = serializers.CharField(
        required=False, allow_blank=True, max_length=255, trim_whitespace=False,
        validators=[RegexValidator(r"^[^\x00]*$", "No NUL characters.")],
    )  # fmt: skip
    url = serializers.CharField(
        max_length=500, trim_whitespace=False, validators=[LINK], help_text="Where to watch."
    )
    live_since = serializers.DateTimeField(required=False)
    live_now = StrictBooleanField(required=False, help_text="false ends the live.")


class LiveEntrySerializer(serializers.ModelSerializer):
    owner = serializers.IntegerField(source="owner.telegram_id", read_only=True)
    live_now = serializers.BooleanField(source="is_live", read_only=True)
    url = serializers.CharField(read_only=True)

    class Meta:
        model = LiveEntry
        fields = [
            "id", "owner", "platform", "handle", "title", "url", "live_since", "live_now",
            "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields


@extend_schema(
    summary="Create or update a live entry (by platform and handle)",
    responses={200: LiveEntrySerializer, 201: LiveEntrySerializer},
)
class LiveUpsert(ScopedAPIView):
    """A live entry is what broadcasts promote and the private-chat bot lists. Posting the same
    platform and handle again updates it (fields left out keep their value); `live_now: false`
    ends the live."""

    model = LiveEntry
    serializer_class = LiveRequest

    def post(self, request: Request) -> Response:
        body = self.get_serializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        owner = data.get("owner")
        if owner is None and self.holder.owner_id is not None:
            owner = Owner.objects.filter(pk=self.holder.owner_id).first()
        if owner is None:
            raise ValidationError({"owner": ["A staff key names the owner."]})
        entry, created = do_upsert_live(
            owner,
            data["platform"],
            data["handle"],
            title=data.get("title"),
            url=data["url"],
            live_since=data.get("live_since"),
            is_live=data.get("live_now"),
        )
        return Response(
            LiveEntrySerializer(entry).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )
