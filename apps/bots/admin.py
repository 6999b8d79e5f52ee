from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from apps.bots import features
from apps.bots.models import Bot, Owner


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
    list_display = ["username", "telegram_id", "owner", "is_active", "feature_list", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["username", "telegram_id", "owner__username"]
    fields = [
        "username", "telegram_id", "owner", "is_active", "features", "created_at", "updated_at",
    ]  # fmt: skip
    readonly_fields = ["username", "telegram_id", "created_at", "updated_at"]
    autocomplete_fields = ["owner"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # a bot is added with its token by `manage.py addbot`, which checks it

    @admin.display(description="features")
    def feature_list(self, row: Bot) -> str:
        return ", ".join(row.features or [])
