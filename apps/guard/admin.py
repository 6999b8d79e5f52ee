"""The guard in the admin: each group's protection on the group's own page, its settings as
fields (warning text, buttons, mode) instead of JSON, the state in the group list, and pause /
reactivate actions; members' verdicts with their names."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.chats.admin import WithNames
from apps.chats.models import Group
from apps.guard.models import GroupProtection, MemberState
from apps.guard.services import staff
from apps.guard.services.protection import DEFAULT_SETTINGS, MODES

SETTING_HELP = {
    "warning": "Sent to a member who is not subscribed. {name} and {channels} are filled in.",
    "join_button": "The button under the warning for each channel; {channel} is filled in.",
    "verify_button": "The button a member presses after joining.",
}


class ProtectionForm(forms.ModelForm):
    """`settings` (a JSON object) as one field per setting; an empty or default value is the
    default, so a later change of the default text reaches the group."""

    warning = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False,
                              max_length=1000)  # fmt: skip
    join_button = forms.CharField(required=False, max_length=1000)
    verify_button = forms.CharField(required=False, max_length=1000)
    mode = forms.ChoiceField(
        choices=[("delete", "delete the message and mute the sender"), ("mute", "only mute")],
    )

    class Meta:
        model = GroupProtection
        fields = ["enabled"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        stored = self.instance.settings or {}
        for name, default in DEFAULT_SETTINGS.items():
            field = self.fields[name]
            if name == "mode":
                field.initial = stored.get("mode") if stored.get("mode") in MODES else default
                continue
            field.initial = stored.get(name, "")
            field.widget.attrs["placeholder"] = default
            field.help_text = f"{SETTING_HELP[name]} Empty: the default (shown greyed)."

    def save(self, commit: bool = True) -> GroupProtection:
        chosen = {name: (self.cleaned_data.get(name) or "").strip() for name in DEFAULT_SETTINGS}
        self.instance.settings = {
            name: value
            for name, value in chosen.items()
            if value and value != DEFAULT_SETTINGS[name]
        }
        return super().save(commit)


class ProtectionInline(admin.StackedInline):
    model = GroupProtection
    form = ProtectionForm
    can_delete = False
    fields = ["enabled", "warning", "join_button", "verify_button", "mode", "paused_at",
              "pause_reason"]  # fmt: skip
    readonly_fields = ["paused_at", "pause_reason"]
    verbose_name_plural = "protection (guard)"

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # protection starts with /protect, which checks the bot's rights first


class ProtectionState(admin.SimpleListFilter):
    title = "protection"
    parameter_name = "protection"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("protected", "protected"), ("paused", "paused"), ("off", "off"),
                ("none", "never protected")]  # fmt: skip

    def queryset(self, request: HttpRequest, queryset: QuerySet[Group]) -> QuerySet[Group]:
        match self.value():
            case "protected":
                return queryset.filter(protection__enabled=True, protection__paused_at__isnull=True)
            case "paused":
                return queryset.filter(
                    protection__enabled=True, protection__paused_at__isnull=False
                )
            case "off":
                return queryset.filter(protection__enabled=False)
            case "none":
                return queryset.filter(protection__isnull=True)
        return queryset


def state_of(group: Group) -> str:
    state = getattr(group, "protection", None)
    if state is None:
        return "never protected"
    if not state.enabled or not group.enabled:
        return "off"
    return "paused" if state.paused_at else "protected"


_GroupAdmin: Any = type(admin.site.get_model_admin(Group))


class GroupAdminWithProtection(_GroupAdmin):
    """The group's page as the apps before registered it, with the guard's protection."""

    inlines = [*_GroupAdmin.inlines, ProtectionInline]
    list_display = [*_GroupAdmin.list_display, "protection_state"]
    list_filter = [*_GroupAdmin.list_filter, ProtectionState]
    actions = [*(_GroupAdmin.actions or []), "pause_protection", "reactivate_protection"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Group]:
        return super().get_queryset(request).select_related("protection")

    @admin.display(description="protection", ordering="protection__paused_at")
    def protection_state(self, group: Group) -> str:
        return state_of(group)

    @admin.action(description="Pause protection (no enforcement until reactivated)")
    def pause_protection(self, request: HttpRequest, queryset: QuerySet[Group]) -> None:
        paused = staff.do_pause(queryset, f"admin {request.user.get_username()}")
        self.message_user(request, f"Paused protection in {paused} group(s).")

    @admin.action(description="Reactivate protection (runs the bot's checks first)")
    def reactivate_protection(self, request: HttpRequest, queryset: QuerySet[Group]) -> None:
        for group in queryset.prefetch_related("channel_links__channel"):
            done, why = staff.do_reactivate(group)
            if done:
                self.message_user(request, f"{group}: protection reactivated.")
            else:
                self.message_user(request, f"{group}: not reactivated: {why}", messages.WARNING)


admin.site.unregister(Group)
admin.site.register(Group, GroupAdminWithProtection)


@admin.register(GroupProtection)
class GroupProtectionAdmin(admin.ModelAdmin):
    form = ProtectionForm
    list_display = ["group", "enabled", "is_paused", "pause_reason", "updated_at"]
    list_filter = ["enabled", ("paused_at", admin.EmptyFieldListFilter), "group__bot"]
    list_select_related = ["group"]
    search_fields = ["group__title", "group__chat_id", "group__owner__username"]
    fields = ["group", "enabled", "warning", "join_button", "verify_button", "mode", "paused_at",
              "pause_reason", "created_at", "updated_at"]  # fmt: skip
    # A pause is the guard's to set (SPEC G10) and an admin's /reactivate to lift, after checks.
    readonly_fields = ["group", "paused_at", "pause_reason", "created_at", "updated_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # protection starts with /protect, which checks the bot's rights first

    @admin.display(boolean=True, description="paused", ordering="paused_at")
    def is_paused(self, protection: GroupProtection) -> bool:
        return protection.paused_at is not None


@admin.register(MemberState)
class MemberStateAdmin(WithNames):
    list_display = ["user_id", "name", "username", "group", "status", "checked_at"]
    list_filter = ["status", "group__bot"]
    list_select_related = ["group"]
    search_fields = ["user_id", "group__title", "group__chat_id"]
    readonly_fields = ["created_at"]
    autocomplete_fields = ["group"]
