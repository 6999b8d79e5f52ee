from django.contrib import admin

from apps.guard.models import GroupProtection, MemberState


@admin.register(GroupProtection)
class GroupProtectionAdmin(admin.ModelAdmin):
    list_display = ["group", "enabled", "is_paused", "pause_reason", "updated_at"]
    list_filter = ["enabled", ("paused_at", admin.EmptyFieldListFilter), "group__bot"]
    search_fields = ["group__title", "group__chat_id", "group__owner__username"]
    # A pause is the guard's to set (SPEC G10) and an admin's /reactivate to lift, after checks.
    readonly_fields = ["group", "paused_at", "pause_reason", "created_at", "updated_at"]

    def has_add_permission(self, request: object) -> bool:
        return False  # protection starts with /protect, which checks the bot's rights first

    @admin.display(boolean=True, description="paused", ordering="paused_at")
    def is_paused(self, protection: GroupProtection) -> bool:
        return protection.paused_at is not None


@admin.register(MemberState)
class MemberStateAdmin(admin.ModelAdmin):
    list_display = ["user_id", "group", "status", "checked_at"]
    list_filter = ["status", "group__bot"]
    search_fields = ["user_id", "group__title", "group__chat_id"]
    readonly_fields = ["created_at"]
    autocomplete_fields = ["group"]
