from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.chats.models import Channel, Group, GroupChannelLink, GroupMember, UnreachableChat


class ChannelLinkInline(admin.TabularInline):
    model = GroupChannelLink
    extra = 0
    autocomplete_fields = ["channel"]
    readonly_fields = ["created_at"]


@admin.register(Group)
class GroupAdmin(admin.ModelAdmin):
    # The guard's protection of a group (paused or not, its settings) has its own admin page.
    list_display = ["title", "chat_id", "bot", "owner", "enabled", "updated_at"]
    list_filter = ["enabled", "bot"]
    search_fields = ["title", "chat_id", "owner__username"]
    readonly_fields = ["created_at", "updated_at"]
    autocomplete_fields = ["owner"]
    inlines = [ChannelLinkInline]


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    list_display = ["title", "username", "chat_id", "bot", "updated_at"]
    list_filter = ["bot"]
    search_fields = ["title", "username", "chat_id"]
    readonly_fields = ["created_at", "updated_at"]


@admin.register(GroupChannelLink)
class GroupChannelLinkAdmin(admin.ModelAdmin):
    list_display = ["group", "channel", "created_at"]
    list_filter = ["group__bot"]
    search_fields = ["group__title", "group__chat_id", "channel__title", "channel__username"]
    readonly_fields = ["created_at"]
    autocomplete_fields = ["group", "channel"]


@admin.register(GroupMember)
class GroupMemberAdmin(admin.ModelAdmin):
    list_display = ["user_id", "group", "last_seen_at", "created_at"]
    list_filter = ["group__bot"]
    search_fields = ["user_id", "group__title", "group__chat_id"]
    readonly_fields = ["created_at"]
    autocomplete_fields = ["group"]


@admin.register(UnreachableChat)
class UnreachableChatAdmin(admin.ModelAdmin):
    # Rows are written from Telegram's 403 answers; staff only read or clear them.
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
