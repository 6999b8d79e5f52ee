from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.telegram.models import UnreachableChat


@admin.register(UnreachableChat)
class UnreachableChatAdmin(admin.ModelAdmin):
    # Rows are written by the client from Telegram's answers; staff only read or clear them.
    list_display = ["chat_id", "bot", "reason", "description", "marked_at"]
    list_filter = ["reason", "bot"]
    search_fields = ["chat_id", "description"]
    readonly_fields = ["bot", "chat_id", "reason", "description", "marked_at"]
    date_hierarchy = "marked_at"
    actions = ["mark_reachable"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Mark reachable again (the bot will try these chats)")
    def mark_reachable(self, request: HttpRequest, queryset: QuerySet[UnreachableChat]) -> None:
        deleted, _ = queryset.delete()
        self.message_user(request, f"{deleted} chat(s) marked reachable.")
