from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from apps.bots import features
from apps.bots.models import Bot, Owner, TelegramUser


@admin.register(TelegramUser)
class TelegramUserAdmin(admin.ModelAdmin):
    # Names as Telegram last showed them to a bot; written from updates, never edited here.
    list_display = ["telegram_id", "first_name", "last_name", "username", "updated_at"]
    search_fields = ["=telegram_id", "username", "first_name", "last_name"]
    readonly_fields = ["telegram_id", "first_name", "last_name", "username", "updated_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Owner)
class OwnerAdmin(admin.ModelAdmin):
    list_display = ["telegram_id", "username", "first_name", "created_at"]
    search_fields = ["telegram_id", "username", "first_name"]
    readonly_fields = ["created_at", "updated_at"]


class BotForm(forms.ModelForm):
    # One checkbox per declared feature; Bot.clean refuses a combination that cannot run.
    features = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="what this bot runs (the core, which follows chat migrations, always runs)",
    )

    class Meta:
        model = Bot
        fields = ["features"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["features"].choices = features.choices()  # type: ignore[attr-defined]


@admin.register(Bot)
class BotAdmin(admin.ModelAdmin):
    # The token and the webhook secret hash are never shown: `manage.py addbot` sets them.
    form = BotForm
    list_display = [
        "username", "telegram_id", "owner", "is_active", "feature_list", "checked_at", "created_at",
    ]  # fmt: skip
    list_filter = ["is_active"]
    list_select_related = ["owner"]
    search_fields = ["username", "telegram_id", "owner__username"]
    fields = [
        "username", "telegram_id", "owner", "owner_details", "is_active", "features",
        "checked_at", "check_error", "created_at", "updated_at",
    ]  # fmt: skip
    readonly_fields = [
        "username", "telegram_id", "owner_details", "checked_at", "check_error", "created_at",
        "updated_at",
    ]  # fmt: skip
    autocomplete_fields = ["owner"]

    @admin.display(description="owner, in Telegram")
    def owner_details(self, row: Bot) -> str:
        owner = row.owner
        if owner is None:
            return "no owner recorded"
        link = reverse("admin:bots_owner_change", args=[owner.pk])
        name = owner.first_name or "(no name)"
        handle = f"@{owner.username}" if owner.username else "no username"
        return format_html(
            '<a href="{}">{}</a> · {} · Telegram id {}', link, name, handle, owner.telegram_id
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # a bot is added with its token by `manage.py addbot`, which checks it

    @admin.display(description="features")
    def feature_list(self, row: Bot) -> str:
        return ", ".join(row.features or [])
