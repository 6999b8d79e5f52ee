from django.contrib import admin
from django.http import HttpRequest

from apps.bots.models import Bot, Owner


@admin.register(Owner)
class OwnerAdmin(admin.ModelAdmin):
    list_display = ["telegram_id", "username", "first_name", "created_at"]
    search_fields = ["telegram_id", "username", "first_name"]
    readonly_fields = ["created_at", "updated_at"]


@admin.register(Bot)
class BotAdmin(admin.ModelAdmin):
    # The token and the webhook secret hash are never shown: `manage.py addbot` sets them.
    list_display = ["username", "telegram_id", "owner", "is_active", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["username", "telegram_id", "owner__username"]
    fields = ["username", "telegram_id", "owner", "is_active", "created_at", "updated_at"]
    readonly_fields = ["username", "telegram_id", "created_at", "updated_at"]
    autocomplete_fields = ["owner"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # a bot is added with its token by `manage.py addbot`, which checks it
