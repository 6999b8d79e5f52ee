from typing import Any, TypeVar, cast

from django.contrib import admin
from django.db.models import Count, IntegerField, Model, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from apps.bots.models import TelegramUser
from apps.chats.models import Channel, Group, GroupChannelLink, GroupMember, UnreachableChat

M = TypeVar("M", bound=Model)
RECENT_MEMBERS = 20  # shown on a group's page; the rest are one click away


def _seen_members() -> Coalesce:
    """Members seen in the group: a subquery per row of the page (an index-only count on the
    unique (group, user) key), so the list stays one query whatever the number of groups."""
    counted = (
        GroupMember.objects.filter(group=OuterRef("pk"))
        .order_by()
        .values("group")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def with_names(rows: QuerySet[M]) -> QuerySet[M]:
    """Rows about a user (`user_id`) with the name and username Telegram last showed for them
    (None when unknown)."""
    person = TelegramUser.objects.filter(telegram_id=OuterRef("user_id"))
    named = rows.annotate(
        first_name=Subquery(person.values("first_name")[:1]),
        last_name=Subquery(person.values("last_name")[:1]),
        username=Subquery(person.values("username")[:1]),
    )
    return cast(QuerySet[M], named)  # the same rows, with three more attributes


def handle(row: Model) -> str:
    """The @username `with_names` found for the row's user, or "no username"."""
    username = getattr(row, "username", None)
    return f"@{username}" if username else "no username"


def member_name(row: Model) -> str:
    """The name `with_names` found for the row's user, or "-"."""
    first, last = getattr(row, "first_name", None), getattr(row, "last_name", None)
    return " ".join(part for part in (first, last) if part) or "-"


class ChannelLinkInline(admin.TabularInline):
    model = GroupChannelLink
    extra = 0
    autocomplete_fields = ["channel"]
    readonly_fields = ["created_at"]


@admin.register(Group)
class GroupAdmin(admin.ModelAdmin):
    # Features add their state of a group (the guard's protection, growth's phase) by extending
    # this class in their own admin.py and registering the result in its place.
    list_display = [
        "title", "chat_id", "bot", "owner", "channel_list", "members_seen", "enabled", "updated_at",
    ]  # fmt: skip
    list_filter = ["enabled", "bot"]
    search_fields = ["title", "chat_id", "owner__username"]
    readonly_fields = ["members", "created_at", "updated_at"]
    autocomplete_fields = ["owner"]
    inlines = [ChannelLinkInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Group]:
        # select_related here, not list_select_related: the admin drops that list as soon as a
        # subclass's get_queryset selects a relation of its own (the guard's protection).
        return (
            super()
            .get_queryset(request)
            .select_related("bot", "owner")
            .prefetch_related("channel_links__channel")
            .annotate(seen=_seen_members())
        )

    @admin.display(description="channels")
    def channel_list(self, group: Group) -> str:
        return ", ".join(str(link.channel) for link in group.channel_links.all()) or "-"

    @admin.display(description="members seen", ordering="seen")
    def members_seen(self, group: Group) -> int:
        return int(getattr(group, "seen", 0))

    @admin.display(description="members (last seen first)")
    def members(self, group: Group) -> str:
        if group.pk is None:
            return "-"
        recent = with_names(GroupMember.objects.filter(group=group))[:RECENT_MEMBERS]
        rows = format_html_join(
            "",
            "<li>{} <small>{} · id {} · last seen {}</small></li>",
            (
                (member_name(m), handle(m), m.user_id, f"{m.last_seen_at:%Y-%m-%d %H:%M}")
                for m in recent
            ),
        )  # fmt: skip
        every = reverse("admin:chats_groupmember_changelist") + f"?group__id__exact={group.pk}"
        return format_html('<ul class="plain">{}</ul><a href="{}">every member →</a>', rows, every)


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


class WithNames(admin.ModelAdmin):
    """A list of rows about a user (`user_id`) with their name and username columns."""

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return with_names(super().get_queryset(request))

    @admin.display(description="name")
    def name(self, row: Model) -> str:
        return member_name(row)

    @admin.display(description="username")
    def username(self, row: Model) -> str:
        username = getattr(row, "username", None)
        return f"@{username}" if username else "-"


@admin.register(GroupMember)
class GroupMemberAdmin(WithNames):
    list_display = ["user_id", "name", "username", "group", "last_seen_at", "created_at"]
    list_filter = ["group__bot"]
    list_select_related = ["group"]
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
