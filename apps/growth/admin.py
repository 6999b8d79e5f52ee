"""Growth in the admin (SPEC M1, M2, M5): each managed group's profile and its phase history on
the group's own page, the phase in the group list; join requests with filters and bulk approve /
decline through the paced queue; the member-count history.

A phase changed here is recorded like any other (PhaseTransition, by the admin's username):
the form's phase goes through services.phases.do_set_phase, never straight into the row."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.forms import BaseInlineFormSet, ModelForm
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join

from apps.chats.admin import WithNames
from apps.chats.models import Group
from apps.growth.models import GrowthProfile, JoinRequest, MemberCount, PhaseTransition
from apps.growth.services import phases, requests

Status = JoinRequest.Status
PROFILE_FIELDS = ["phase", "member_target", "starts_on", "ends_on", "monitoring_policy",
                  "kick_after_days", "kick_dry_run"]  # fmt: skip
HISTORY_ROWS = 50


def who(request: HttpRequest) -> str:
    return request.user.get_username()


def save_profile(form: ModelForm, request: HttpRequest) -> GrowthProfile:
    """Save a profile form; a changed phase is recorded as a transition by this admin."""
    profile: GrowthProfile = form.instance
    wanted = form.cleaned_data.get("phase", profile.phase)
    if profile.pk is None:
        profile.save()
        return profile
    profile.phase = GrowthProfile.objects.values_list("phase", flat=True).get(pk=profile.pk)
    profile.save()
    if wanted != profile.phase:
        phases.do_set_phase(profile.pk, wanted, reason="changed in the admin", by=who(request))
        profile.refresh_from_db()
    return profile


def history_html(profile: GrowthProfile | None) -> str:
    if profile is None:
        return "no growth profile"
    rows = profile.transitions.order_by("-at", "-id")[:HISTORY_ROWS]
    if not rows:
        return "no phase change yet"
    body = format_html_join(
        "",
        "<tr><td>{}</td><td>{} → {}</td><td>{}</td><td>{}</td></tr>",
        ((f"{t.at:%Y-%m-%d %H:%M}", t.from_phase, t.to_phase, t.reason, t.by) for t in rows),
    )
    return format_html(
        "<table><tr><th>when</th><th>phase</th><th>why</th><th>by</th></tr>{}</table>", body
    )


class ProfileFormSet(BaseInlineFormSet):
    request: HttpRequest

    def save_new(self, form: ModelForm, commit: bool = True) -> Any:
        return save_profile(form, self.request)

    def save_existing(self, form: ModelForm, obj: Any, commit: bool = True) -> Any:
        return save_profile(form, self.request)


class ProfileInline(admin.StackedInline):
    model = GrowthProfile
    formset = ProfileFormSet
    can_delete = False
    fields = [*PROFILE_FIELDS, "phase_history"]
    readonly_fields = ["phase_history"]
    verbose_name_plural = "growth (phases, join policy, kick rule)"

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        formset: Any = super().get_formset(request, obj, **kwargs)
        formset.request = request
        return formset

    @admin.display(description="phase history")
    def phase_history(self, profile: GrowthProfile) -> str:
        return history_html(profile if profile.pk else None)


_GroupAdmin: Any = type(admin.site.get_model_admin(Group))


class GroupAdminWithGrowth(_GroupAdmin):
    """The group's page as the apps before registered it, with growth's profile and history."""

    inlines = [*_GroupAdmin.inlines, ProfileInline]
    list_display = [*_GroupAdmin.list_display, "growth_phase"]
    list_filter = [*_GroupAdmin.list_filter, "growth__phase"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Group]:
        return super().get_queryset(request).select_related("growth")

    def get_inline_instances(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        # Growth's part of the page only for a group growth manages (a profile made on the
        # *Growth profiles* page, or by an admin's /growth): other groups' forms stay as they
        # were.
        inlines = super().get_inline_instances(request, obj)
        managed = obj is not None and GrowthProfile.objects.filter(group=obj).exists()
        return [i for i in inlines if managed or not isinstance(i, ProfileInline)]

    @admin.display(description="phase", ordering="growth__phase")
    def growth_phase(self, group: Group) -> str:
        profile = getattr(group, "growth", None)
        return profile.phase if profile is not None else "—"


admin.site.unregister(Group)
admin.site.register(Group, GroupAdminWithGrowth)


def _set_phase_action(phase: str) -> Any:
    def action(model_admin: Any, request: HttpRequest, queryset: QuerySet[GrowthProfile]) -> None:
        moved = sum(
            1
            for profile in queryset
            if phases.do_set_phase(profile.pk, phase, reason="admin action", by=who(request))
        )
        model_admin.message_user(request, f"{moved} group(s) moved to {phase}.")

    action.__name__ = f"move_to_{phase}"
    return admin.action(description=f"Move to {phase} (recorded)")(action)


class ProfileForm(ModelForm):
    class Meta:
        model = GrowthProfile
        fields = ["group", *PROFILE_FIELDS]


@admin.register(GrowthProfile)
class GrowthProfileAdmin(admin.ModelAdmin):
    form = ProfileForm
    list_display = ["group", "phase", "member_target", "starts_on", "ends_on",
                    "monitoring_policy", "kick_after_days", "kick_dry_run",
                    "updated_at"]  # fmt: skip
    list_filter = ["phase", "monitoring_policy", "kick_dry_run", "group__bot"]
    list_select_related = ["group"]
    search_fields = ["group__title", "group__chat_id"]
    autocomplete_fields = ["group"]
    readonly_fields = ["phase_history", "created_at", "updated_at"]
    actions = [_set_phase_action(phase) for phase in GrowthProfile.Phase.values]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # A profile's group is for good once it exists.
        return [*self.readonly_fields, "group"] if obj is not None else self.readonly_fields

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        save_profile(form, request)

    @admin.display(description="phase history")
    def phase_history(self, profile: GrowthProfile) -> str:
        return history_html(profile)


@admin.register(PhaseTransition)
class PhaseTransitionAdmin(admin.ModelAdmin):
    list_display = ["at", "profile", "from_phase", "to_phase", "reason", "by"]
    list_filter = ["to_phase", "by"]
    list_select_related = ["profile__group"]
    search_fields = ["profile__group__title", "reason", "by"]
    readonly_fields = ["profile", "from_phase", "to_phase", "reason", "by", "at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # transitions are made by rules or phase changes, never written by hand

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(JoinRequest)
class JoinRequestAdmin(WithNames):
    list_display = ["user_id", "name", "username", "group", "status", "phase_at_arrival",
                    "requested_at", "decided_at", "decided_by", "executed_at",
                    "reason"]  # fmt: skip
    list_filter = ["status", "phase_at_arrival", ("group", admin.RelatedOnlyFieldListFilter),
                   "group__bot"]  # fmt: skip
    list_select_related = ["group"]
    search_fields = ["user_id", "group__title", "group__chat_id"]
    date_hierarchy = "requested_at"
    readonly_fields = ["group", "user_id", "user_chat_id", "requested_at", "phase_at_arrival",
                       "status", "decided_at", "decided_by", "executed_at", "reason",
                       "description", "attempts", "claim", "claimed_at", "created_at",
                       "updated_at"]  # fmt: skip
    actions = ["approve", "decline"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # requests come from Telegram only

    def _decide(self, request: HttpRequest, queryset: QuerySet[JoinRequest], status: str) -> None:
        decided = requests.do_decide(
            queryset, status, by=who(request), from_statuses=requests.DECIDABLE
        )
        skipped = queryset.count() - decided
        self.message_user(
            request,
            f"{decided} request(s) queued; they leave at each group's pace."
            + (f" {skipped} already decided or finished, left as they were." if skipped else ""),
            messages.SUCCESS if decided else messages.WARNING,
        )

    @admin.action(description="Approve selected (through the paced queue)")
    def approve(self, request: HttpRequest, queryset: QuerySet[JoinRequest]) -> None:
        self._decide(request, queryset, Status.APPROVING)

    @admin.action(description="Decline selected (through the paced queue)")
    def decline(self, request: HttpRequest, queryset: QuerySet[JoinRequest]) -> None:
        self._decide(request, queryset, Status.DECLINING)


@admin.register(MemberCount)
class MemberCountAdmin(admin.ModelAdmin):
    list_display = ["group", "count", "at"]
    list_filter = ["group__bot"]
    list_select_related = ["group"]
    search_fields = ["group__title", "group__chat_id"]
    date_hierarchy = "at"
    readonly_fields = ["group", "count", "at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
