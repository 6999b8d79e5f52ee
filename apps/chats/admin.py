from django.contrib import admin

from apps.chats.models import Channel, Group, GroupChannelLink, GroupMember


class ChannelLinkInline(admin.TabularInline):
    model = GroupChannelLink
    extra = 0
    autocomplete_fields = ["channel"]
    readonly_fields = ["created_at"]


@admin.register(Group)
class GroupAdmin(admin.ModelAdmin):
    list_display = ["title", "chat_id", "bot", "owner", "enabled", "is_paused", "updated_at"]
    list_filter = ["enabled", ("paused_at", admin.EmptyFieldListFilter), "bot"]
    search_fields = ["title", "chat_id", "owner__username"]
    readonly_fields = ["paused_at", "pause_reason", "created_at", "updated_at"]
    autocomplete_fields = ["owner"]
    inlines = [ChannelLinkInline]

    @admin.display(boolean=True, description="paused", ordering="paused_at")
    def is_paused(self, group: Group) -> bool:
        # Set by the guard when the bot lost its rights (SPEC G10); /reactivate clears it.
        return group.paused_at is not None


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
    list_display = ["user_id", "group", "status", "last_seen_at", "checked_at"]
    list_filter = ["status", "group__bot"]
    search_fields = ["user_id", "group__title", "group__chat_id"]
    readonly_fields = ["created_at"]
    autocomplete_fields = ["group"]
