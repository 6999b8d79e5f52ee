"""The broadcasts in the admin (a product surface): create one, start it, watch it go out live,
delete it everywhere, export its deliveries; the groups' broadcasting, bans and paid settings."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html

from apps.broadcasts.models import (
    Broadcast,
    BroadcastBot,
    Delivery,
    GroupBroadcasting,
    LiveBan,
)
from apps.broadcasts.services import codes, creation, deletion, progress


class BroadcastForm(forms.ModelForm):
    join_url = forms.URLField(
        required=False, assume_scheme="https", max_length=500,
        help_text="JOIN LIVE's URL; empty: the live entry's",
    )  # fmt: skip

    class Meta:
        model = Broadcast
        fields = [
            "bot", "live", "text", "photo", "join_url", "ban_button", "all_groups",
            "chosen_groups", "paid",
        ]  # fmt: skip

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        bot = data.get("bot")
        if bot is None:
            return data
        chosen = list(data.get("chosen_groups") or [])
        if not data.get("all_groups") and not chosen:
            raise ValidationError({"chosen_groups": "Choose groups, or send to all groups."})
        try:
            creation.check_broadcast(bot, creation.BroadcastSpec.of({**data, "groups": chosen}))
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                self.add_error(field if field in self.fields else None, errors)
        return data


class _Echo:
    """csv.writer writes to this; StreamingHttpResponse sends each line as it is made."""

    def write(self, value: str) -> str:
        return value


def csv_response(broadcasts: QuerySet[Broadcast], filename: str) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        yield "\ufeff"  # a BOM, so spreadsheet apps read the file as UTF-8
        for row in progress.csv_rows(broadcasts):
            yield writer.writerow(row)

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@admin.register(Broadcast)
class BroadcastAdmin(admin.ModelAdmin):
    form = BroadcastForm
    change_form_template = "admin/broadcasts/broadcast/change_form.html"
    list_display = [
        "__str__", "bot", "live", "status", "deletion", "progress_summary", "paid", "created_at",
    ]  # fmt: skip
    list_filter = ["status", "deletion", "paid", "bot"]
    search_fields = ["text", "bot__username", "live__handle"]
    autocomplete_fields = ["bot", "live", "chosen_groups"]
    readonly_fields = [
        "status", "status_reason", "deletion", "created_via", "created_at", "started_at",
        "finished_at", "deletion_requested_at", "deleted_at", "progress_panel",
    ]  # fmt: skip
    actions = ["start", "delete_everywhere", "export_csv"]
    date_hierarchy = "created_at"

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        fixed = list(self.readonly_fields)
        if obj is not None and obj.status != Broadcast.Status.DRAFT:
            # What went out is on record: a started broadcast is not edited.
            fixed += [name for name in BroadcastForm.Meta.fields if name not in fixed]
        return fixed

    def save_model(self, request: HttpRequest, obj: Broadcast, form: Any, change: bool) -> None:
        if not change:
            obj.created_via = "admin"
        super().save_model(request, obj, form, change)

    @admin.display(description="progress")
    def progress_summary(self, broadcast: Broadcast) -> str:
        counts = broadcast.deliveries.values_list("status", flat=True)
        if not counts.exists():
            return "—"
        found = progress.progress(broadcast)
        return (
            f"{found['sent']} sent, {found['pending']} to go, {found['skipped']} skipped, "
            f"{found['failed']} failed, {found['unknown']} unknown"
        )

    @admin.display(description="progress (live)")
    def progress_panel(self, broadcast: Broadcast) -> str:
        if broadcast.pk is None:
            return "—"
        url = reverse("admin:broadcasts_broadcast_progress", args=[broadcast.pk])
        return format_html(
            '<div id="broadcast-progress" data-url="{}">loading…</div>'
            '<p><a href="{}">Export the deliveries as CSV</a></p>',
            url,
            reverse("admin:broadcasts_broadcast_export", args=[broadcast.pk]),
        )

    def get_urls(self) -> list[URLPattern]:
        own = [
            path(
                "<int:pk>/progress/",
                self.admin_site.admin_view(self.progress_view),
                name="broadcasts_broadcast_progress",
            ),
            path(
                "<int:pk>/export/",
                self.admin_site.admin_view(self.export_view),
                name="broadcasts_broadcast_export",
            ),
        ]
        return own + super().get_urls()

    def progress_view(self, request: HttpRequest, pk: int) -> JsonResponse:
        broadcast = get_object_or_404(Broadcast, pk=pk)
        if not self.has_view_permission(request, broadcast):
            return JsonResponse({"error": "forbidden"}, status=403)
        found = progress.progress(broadcast)
        found["stars_estimated"] = str(found["stars_estimated"])
        found["stars_spent"] = str(found["stars_spent"])
        return JsonResponse(found)

    def export_view(self, request: HttpRequest, pk: int) -> HttpResponse | StreamingHttpResponse:
        broadcast = get_object_or_404(Broadcast, pk=pk)
        if not self.has_view_permission(request, broadcast):
            return HttpResponse(status=403)
        return csv_response(Broadcast.objects.filter(pk=pk), f"broadcast-{pk}.csv")

    @admin.action(description="Start (or resume) the selected broadcasts")
    def start(self, request: HttpRequest, queryset: QuerySet[Broadcast]) -> None:
        started = sum(creation.do_start(broadcast) for broadcast in queryset)
        self.message_user(request, f"{started} broadcast(s) started.", messages.SUCCESS)

    @admin.action(description="Delete everywhere: remove every message the selected sent")
    def delete_everywhere(self, request: HttpRequest, queryset: QuerySet[Broadcast]) -> None:
        asked = sum(deletion.do_request_deletion(broadcast) for broadcast in queryset)
        self.message_user(
            request, f"Deleting {asked} broadcast(s) everywhere; progress on each page."
        )

    @admin.action(description="Export the selected broadcasts' deliveries as CSV")
    def export_csv(
        self, request: HttpRequest, queryset: QuerySet[Broadcast]
    ) -> StreamingHttpResponse:
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        return csv_response(queryset, f"deliveries-{stamp}.csv")


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    """Read-only: every row is an outcome Telegram gave. Search a debug code (DBG:xxxxxx)."""

    list_display = [
        "debug_code", "broadcast", "group", "chat_id", "status", "reason", "message_id",
        "deletion", "finished_at",
    ]  # fmt: skip
    list_filter = ["status", "deletion", "reason"]
    search_fields = ["debug_code", "chat_id", "group__title", "description"]
    list_select_related = ["broadcast", "group"]
    raw_id_fields = ["broadcast", "group"]

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Delivery], search_term: str
    ) -> tuple[QuerySet[Delivery], bool]:
        pk = codes.delivery_id(search_term)
        if pk is not None:
            return queryset.filter(pk=pk), False
        return super().get_search_results(request, queryset, search_term)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(GroupBroadcasting)
class GroupBroadcastingAdmin(admin.ModelAdmin):
    list_display = [
        "group", "final_message_allowed", "consecutive_failures", "deactivated_at",
        "deactivation_reason",
    ]  # fmt: skip
    list_filter = ["final_message_allowed", ("deactivated_at", admin.EmptyFieldListFilter)]
    search_fields = ["group__title", "group__chat_id"]
    autocomplete_fields = ["group"]
    readonly_fields = ["consecutive_failures", "deactivated_at", "deactivation_reason"]
    actions = ["reactivate"]

    @admin.action(description="Send broadcasts to the selected groups again")
    def reactivate(self, request: HttpRequest, queryset: QuerySet[GroupBroadcasting]) -> None:
        count = queryset.update(consecutive_failures=0, deactivated_at=None, deactivation_reason="")
        self.message_user(request, f"{count} group(s) reactivated for broadcasts.")


@admin.register(LiveBan)
class LiveBanAdmin(admin.ModelAdmin):
    """A group admin pressed BAN; deleting a row undoes the ban."""

    list_display = ["live", "group", "banned_by", "created_at"]
    list_filter = ["live__platform"]
    search_fields = ["live__handle", "group__title", "group__chat_id", "banned_by"]
    autocomplete_fields = ["group", "live"]


@admin.register(BroadcastBot)
class BroadcastBotAdmin(admin.ModelAdmin):
    list_display = ["bot", "allow_paid_broadcast", "paid_rate", "updated_at"]
    list_filter = ["allow_paid_broadcast"]
    autocomplete_fields = ["bot"]
