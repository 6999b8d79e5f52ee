"""Member activity and the kicker in the admin: activity per member with names, every kick run
with its summary (who was listed, skipped and why, errors, duration), and on a group's page its
exemptions and its latest runs."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join

from apps.bots.models import TelegramUser
from apps.chats.admin import WithNames
from apps.chats.models import Group
from apps.growth.models import GrowthProfile
from apps.members.models import KickExemption, KickRun, MemberActivity

LISTED_SHOWN = 200  # names on a run's page; the ids of all of them are in `listed`


class KickExemptionInline(admin.TabularInline):
    model = KickExemption
    extra = 0
    fields = ["user_id", "note", "created_at"]
    readonly_fields = ["created_at"]
    verbose_name_plural = "never kicked (exemptions of the kick rule)"


class KickRunInline(admin.TabularInline):
    model = KickRun
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = True
    fields = ("started_at", "dry_run", "kick_after_days", "status", "candidates", "removed",
              "skipped", "error_count", "duration_seconds")  # fmt: skip
    readonly_fields = fields
    ordering = ["-started_at"]
    verbose_name_plural = "kick runs (SPEC M4)"

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).order_by("-started_at")


_GroupAdmin: Any = type(admin.site.get_model_admin(Group))


class GroupAdminWithKicker(_GroupAdmin):
    """The group's page as the apps before registered it, with the kick rule's exemptions and
    runs (the rule itself is the growth profile's)."""

    inlines = [*_GroupAdmin.inlines, KickExemptionInline, KickRunInline]

    def get_inline_instances(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        # Only for a group growth manages (it has a growth profile, where the kick rule is):
        # other groups' pages and forms stay as they were.
        inlines = super().get_inline_instances(request, obj)
        managed = obj is not None and GrowthProfile.objects.filter(group=obj).exists()
        ours = (KickExemptionInline, KickRunInline)
        return [i for i in inlines if managed or not isinstance(i, ours)]


admin.site.unregister(Group)
admin.site.register(Group, GroupAdminWithKicker)


@admin.register(MemberActivity)
class MemberActivityAdmin(WithNames):
    list_display = ["user_id", "name", "username", "group", "message_count", "last_message_at",
                    "joined_at", "active_at", "left_at", "is_bot"]  # fmt: skip
    list_filter = ["is_bot", ("left_at", admin.EmptyFieldListFilter), "group__bot"]
    list_select_related = ["group"]
    search_fields = ["user_id", "group__title", "group__chat_id"]
    readonly_fields = ["group", "user_id", "is_bot", "joined_at", "first_seen_at",
                       "last_message_at", "message_count", "active_at", "left_at",
                       "updated_at"]  # fmt: skip
    date_hierarchy = "active_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # written by the flush from what the bot sees


@admin.register(KickRun)
class KickRunAdmin(admin.ModelAdmin):
    list_display = ["__str__", "group", "dry_run", "kick_after_days", "status", "candidates",
                    "removed", "skipped", "error_count", "duration_seconds"]  # fmt: skip
    list_filter = ["status", "dry_run", "group__bot"]
    list_select_related = ["group"]
    search_fields = ["group__title", "group__chat_id"]
    date_hierarchy = "started_at"
    fields = ("group", "slot", "kick_after_days", "dry_run", "cutoff", "status", "candidates",
              "removed", "listed_names", "skipped", "errors", "error_count", "chunks", "calls",
              "protected_ids", "started_at", "finished_at", "duration_seconds")  # fmt: skip
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # runs are started by beat

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a record

    @admin.display(description="listed (would go, in a dry run; removed otherwise)")
    def listed_names(self, run: KickRun) -> str:
        shown = run.listed[:LISTED_SHOWN]
        names = {
            person.telegram_id: " ".join(p for p in (person.first_name, person.last_name) if p)
            for person in TelegramUser.objects.filter(telegram_id__in=shown)
        }
        rows = format_html_join(
            "", "<li>{} <small>id {}</small></li>", ((names.get(u, "-"), u) for u in shown)
        )
        more = len(run.listed) - len(shown)
        return format_html('<ul class="plain">{}</ul>{}', rows, f"and {more} more" if more else "")
