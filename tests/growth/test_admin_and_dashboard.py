"""Growth in the admin (phase by hand, recorded and shown on the group's page; join requests
listed and filtered) and on the dashboard (member counts over time)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.growth import dashboard
from apps.growth.models import GrowthProfile, JoinRequest, MemberCount, PhaseTransition
from apps.ops.dashboard import Scope
from tests.factories import BotFactory, GroupFactory

pytestmark = pytest.mark.django_db


def profile_form(profile: GrowthProfile, **changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "phase": profile.phase, "member_target": profile.member_target or "",
        "starts_on": "", "ends_on": "", "monitoring_policy": profile.monitoring_policy,
        "kick_after_days": "", "kick_dry_run": "on",
    }  # fmt: skip
    data.update(changes)
    return {key: value for key, value in data.items() if value is not False}


def test_a_phase_changed_in_the_admin_is_recorded_and_shown_on_the_groups_page(
    admin_client, admin_user
):
    # given a growing group
    group = GroupFactory(title="Cats")
    profile = GrowthProfile.objects.create(group=group, member_target=100)

    # when an admin moves it to monitoring on the profile's page
    answer = admin_client.post(
        f"/admin/growth/growthprofile/{profile.pk}/change/",
        profile_form(profile, phase="monitoring", member_target=150),
    )
    assert answer.status_code == 302, answer.content.decode()[:2000]

    # then the change is a transition by that admin, and the other fields are saved
    profile.refresh_from_db()
    assert (profile.phase, profile.member_target) == ("monitoring", 150)
    (transition,) = PhaseTransition.objects.all()
    assert (transition.from_phase, transition.to_phase, transition.by) == (
        "growth", "monitoring", admin_user.get_username())  # fmt: skip

    # and the group's page lists the history
    page = admin_client.get(f"/admin/chats/group/{group.pk}/change/").content.decode()
    assert "Phase history" in page and "changed in the admin" in page
    assert "growth → monitoring" in page
    # and the group list shows the phase, with a filter
    listing = admin_client.get("/admin/chats/group/?growth__phase=monitoring").content.decode()
    assert "Cats" in listing


def test_join_requests_are_listed_with_filters(admin_client):
    group = GroupFactory(title="Dogs")
    for user_id, status in ((1, "held"), (2, "approved")):
        JoinRequest.objects.create(
            group=group, user_id=user_id, user_chat_id=user_id, requested_at=timezone.now(),
            phase_at_arrival="monitoring", status=status,
        )  # fmt: skip
    page = admin_client.get("/admin/growth/joinrequest/?status=held").content.decode()
    assert "held for an admin" in page and "Approve selected" in page
    assert page.count('class="action-select"') == 1


def test_member_counts_over_time_sum_each_groups_highest_of_the_day():
    bot = BotFactory()
    cats, dogs = GroupFactory(bot=bot), GroupFactory(bot=bot)
    other = GroupFactory()
    now = timezone.now()
    yesterday = now - timedelta(days=1)
    for group, count, at in ((cats, 10, yesterday), (cats, 12, yesterday), (dogs, 5, yesterday),
                             (cats, 20, now), (dogs, 7, now), (other, 1000, now)):  # fmt: skip
        MemberCount.objects.create(group=group, count=count, at=at)

    chart = dashboard.member_counts(Scope(bot=bot, bots=[bot]))
    assert chart.series == {"members": [12 + 5, 20 + 7]}
    assert chart.labels == [f"{yesterday:%m-%d}", f"{now:%m-%d}"]
    overall = dashboard.member_counts(Scope(bot=None, bots=[bot]))
    assert overall.series["members"][-1] == 20 + 7 + 1000
