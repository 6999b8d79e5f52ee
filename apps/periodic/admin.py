"""Periodic messages in the admin (SPEC M6): the message, its URL buttons as rows of a small
table (never free JSON), its targets and schedule; saving writes its beat row in the same
transaction. Runs and their sends are read-only: each send is an outcome Telegram gave."""

from __future__ import annotations

from collections import Counter
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from apps.periodic.models import (
    BUTTONS_PER_ROW_MAX,
    PeriodicButton,
    PeriodicMessage,
    PeriodicRun,
    PeriodicSend,
)
from apps.periodic.services.definition import check_definition
from apps.periodic.services.schedule import Schedule

MAX_BUTTONS = 24


class PeriodicMessageForm(forms.ModelForm):
    class Meta:
        model = PeriodicMessage
        fields = [
            "bot", "name", "text", "photo", "all_groups", "groups", "kind", "every", "period",
            "minute", "hour", "day_of_month", "month_of_year", "day_of_week", "timezone",
            "enabled",
        ]  # fmt: skip

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        bot = data.get("bot")
        if bot is None:
            return data
        schedule = Schedule(
            kind=data.get("kind") or "",
            every=data.get("every"),
            period=data.get("period") or "",
            cron=tuple(data.get(name) or "" for name in  # type: ignore[arg-type]
                       ("minute", "hour", "day_of_month", "month_of_year", "day_of_week")),
            timezone=data.get("timezone") or "",
        )  # fmt: skip
        try:
            check_definition(bot, data.get("text") or "", data.get("photo") or "",
                             bool(data.get("all_groups")), data.get("groups") or [],
                             schedule)  # fmt: skip
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                self.add_error(field if field in self.fields else None, errors)
        return data


class ButtonFormSet(forms.BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        per_row: Counter[int] = Counter()
        for form in self.forms:
            data = getattr(form, "cleaned_data", None) or {}
            if data and not data.get("DELETE") and data.get("row"):
                per_row[data["row"]] += 1
        full = sorted(row for row, count in per_row.items() if count > BUTTONS_PER_ROW_MAX)
        if full:
            raise ValidationError(
                f"At most {BUTTONS_PER_ROW_MAX} buttons in a row (row {', '.join(map(str, full))})."
            )


class ButtonInline(admin.TabularInline):
    model = PeriodicButton
    formset = ButtonFormSet
    fields = ["text", "url", "row", "position"]
    extra = 1
    max_num = MAX_BUTTONS
    verbose_name = "URL button"


@admin.register(PeriodicMessage)
class PeriodicMessageAdmin(admin.ModelAdmin):
    form = PeriodicMessageForm
    inlines = [ButtonInline]
    list_display = ["name", "bot", "schedule", "targets", "enabled", "last_run", "updated_at"]
    list_filter = ["enabled", "kind", "bot"]
    search_fields = ["name", "text", "bot__username"]
    autocomplete_fields = ["bot", "groups"]
    readonly_fields = ["beat_row", "recent_runs", "created_at", "updated_at"]
    actions = ["enable", "disable"]
    fieldsets = [
        (None, {"fields": ["bot", "name", "enabled"]}),
        ("Message", {"fields": ["text", "photo"]}),
        ("Groups", {"fields": ["all_groups", "groups"]}),
        ("Schedule", {"fields": [
            "kind", ("every", "period"),
            ("minute", "hour", "day_of_month", "month_of_year", "day_of_week"), "timezone",
        ]}),
        ("Record", {"fields": ["beat_row", "recent_runs", "created_at", "updated_at"]}),
    ]  # fmt: skip

    @admin.display(description="schedule")
    def schedule(self, message: PeriodicMessage) -> str:
        return Schedule.of(message).describe()

    @admin.display(description="groups")
    def targets(self, message: PeriodicMessage) -> str:
        if message.all_groups:
            return "all active groups"
        return f"{message.groups.count()} chosen"

    @admin.display(description="last run")
    def last_run(self, message: PeriodicMessage) -> str:
        run = message.runs.first()
        return run.run_key if run else "—"

    @admin.display(description="beat row")
    def beat_row(self, message: PeriodicMessage) -> str:
        if message.task is None:
            return "— (written on save)"
        task = message.task
        url = reverse("admin:django_celery_beat_periodictask_change", args=[task.pk])
        state = "enabled" if task.enabled else "disabled"
        return format_html('<a href="{}">{}</a> ({}, last sent {})', url, task.name, state,
                           task.last_run_at or "never")  # fmt: skip

    @admin.display(description="recent runs")
    def recent_runs(self, message: PeriodicMessage) -> str:
        if message.pk is None:
            return "—"
        runs = list(message.runs.all()[:5])
        if not runs:
            return "none yet"
        lines = []
        for run in runs:
            counts = Counter(run.sends.values_list("status", flat=True))
            summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
            url = reverse("admin:periodic_periodicsend_changelist") + f"?run__id__exact={run.pk}"
            lines.append(format_html('<li><a href="{}">{}</a>: {}</li>', url, run.run_key,
                                     summary or "no targets"))  # fmt: skip
        return format_html("<ul>{}</ul>", format_html("".join(lines)))

    def _set_enabled(self, request: HttpRequest, queryset: QuerySet[PeriodicMessage],
                     enabled: bool) -> None:  # fmt: skip
        changed = 0
        for message in queryset:
            if message.enabled != enabled:
                message.enabled = enabled
                message.save()  # through save(): its beat row follows
                changed += 1
        word = "enabled" if enabled else "disabled"
        self.message_user(request, f"{changed} periodic message(s) {word}.", messages.SUCCESS)

    @admin.action(description="Enable the selected periodic messages")
    def enable(self, request: HttpRequest, queryset: QuerySet[PeriodicMessage]) -> None:
        self._set_enabled(request, queryset, True)

    @admin.action(description="Disable the selected periodic messages")
    def disable(self, request: HttpRequest, queryset: QuerySet[PeriodicMessage]) -> None:
        self._set_enabled(request, queryset, False)


class SendInline(admin.TabularInline):
    model = PeriodicSend
    fields = ["group", "chat_id", "status", "reason", "description", "message_id", "finished_at"]
    readonly_fields = ["group", "chat_id", "status", "reason", "description", "message_id",
                       "finished_at"]  # fmt: skip
    can_delete = False
    extra = 0

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(PeriodicRun)
class PeriodicRunAdmin(admin.ModelAdmin):
    """Read-only: what each scheduled run did."""

    list_display = ["message", "run_key", "task_id", "started_at", "finished_at"]
    list_filter = ["message__bot"]
    search_fields = ["message__name", "task_id"]
    readonly_fields = ["message", "run_key", "task_id", "started_at", "finished_at"]
    inlines = [SendInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(PeriodicSend)
class PeriodicSendAdmin(admin.ModelAdmin):
    """Read-only: every row is an outcome Telegram gave (or why nothing was asked)."""

    list_display = ["run", "group", "chat_id", "status", "reason", "message_id", "finished_at"]
    list_filter = ["status", "reason"]
    search_fields = ["chat_id", "group__title", "description"]
    list_select_related = ["run__message", "group"]
    raw_id_fields = ["run", "group"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
