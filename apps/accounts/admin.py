from django.contrib import admin
from django.http import HttpRequest

from apps.accounts.models import Account, Clone, GroupRegistration, LedgerEntry


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = [
        "telegram_id",
        "username",
        "first_name",
        "bot",
        "points",
        "unlimited_until",
        "blocked",
        "started_at",
    ]
    list_filter = ["blocked", ("unlimited_until", admin.EmptyFieldListFilter), "bot"]
    search_fields = ["telegram_id", "username", "first_name"]
    list_select_related = ["bot"]
    # Points change only through the ledger (apps/accounts/services/ledger.py), never by hand.
    readonly_fields = [
        "bot",
        "telegram_id",
        "points",
        "unlimited_until",
        "referred_by",
        "daily_granted_on",
        "started_at",
        "updated_at",
    ]
    show_full_result_count = False  # millions of rows: no COUNT(*) for every page

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # an account starts with /start in Telegram


@admin.register(LedgerEntry)
class LedgerEntryAdmin(admin.ModelAdmin):
    list_display = ["created_at", "account", "delta", "reason", "reference"]
    list_filter = ["reason"]
    search_fields = ["account__telegram_id", "account__username", "reference"]
    list_select_related = ["account"]
    show_full_result_count = False

    # The ledger is the record: read only, here as in the code.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(GroupRegistration)
class GroupRegistrationAdmin(admin.ModelAdmin):
    list_display = ["group", "account", "registered_at", "activated_at"]
    list_filter = [("activated_at", admin.EmptyFieldListFilter)]
    search_fields = ["group__title", "group__chat_id", "account__telegram_id", "account__username"]
    list_select_related = ["group", "account"]
    readonly_fields = ["account", "group", "registered_at", "activated_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # /init checks the caller's and the bot's admin rights first


@admin.register(Clone)
class CloneAdmin(admin.ModelAdmin):
    # The token stays on the Bot row, encrypted, and is shown nowhere.
    list_display = ["bot", "owner", "parent", "created_at"]
    search_fields = ["bot__username", "bot__owner__telegram_id", "bot__owner__username"]
    list_select_related = ["bot__owner", "parent"]
    readonly_fields = ["bot", "parent", "created_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # /clone checks the token with Telegram first

    @admin.display(description="owner", ordering="bot__owner")
    def owner(self, clone: Clone) -> str:
        return str(clone.bot.owner or "")
