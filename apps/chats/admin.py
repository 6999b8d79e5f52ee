from django.contrib import admin

from apps.chats.models import Channel, Group, GroupChannelLink


class ChannelLinkInline(admin.TabularInline):
    model = GroupChannelLink
    extra = 0
    autocomplete_fields = ["channel"]
    readonly_fields = ["created_at"]


@admin.register(Group)
class GroupAdmin(admin.ModelAdmin):
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
