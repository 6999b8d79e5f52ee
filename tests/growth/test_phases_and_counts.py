"""Phases (SPEC M1), member counts (SPEC M5) and /growth, in this process against the sandbox."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from apps.growth import texts
from apps.growth.models import GrowthProfile, JoinRequest, MemberCount, PhaseTransition
from apps.growth.services import counts, phases, report
from tests.growth.conftest import Growing

pytestmark = pytest.mark.django_db(transaction=True)


def members(growing: Growing, n: int) -> None:
    for index in range(n):
        user = growing.sandbox.create_user(f"M{index}")["id"]
        growing.sandbox.set_member(growing.chat, user, "member")
    growing.skip_pending()


def test_counting_past_the_target_moves_the_group_to_monitoring(growing: Growing):
    # given a growing group with a target of 5 and 3 members (owner and bot included)
    GrowthProfile.objects.filter(pk=growing.profile.pk).update(member_target=5)
    members(growing, 1)

    # when its count is refreshed: history written, still growing
    first = counts.do_refresh(growing.group.pk)
    assert first is not None and first.count == 3
    assert GrowthProfile.objects.get(pk=growing.profile.pk).phase == "growth"

    # and once it has 5 members, counted again: monitoring, by rule, recorded
    members(growing, 2)
    counts.do_refresh(growing.group.pk)
    assert list(MemberCount.objects.filter(group=growing.group).values_list("count", flat=True)
                .order_by("at")) == [3, 5]  # fmt: skip
    assert GrowthProfile.objects.get(pk=growing.profile.pk).phase == "monitoring"
    (transition,) = PhaseTransition.objects.filter(profile=growing.profile)
    assert (transition.from_phase, transition.to_phase, transition.by) == (
        "growth", "monitoring", "rule")  # fmt: skip
    assert "5 of 5" in transition.reason
    assert len(growing.calls("getChatMemberCount")) == 2


def test_the_end_date_ends_growth_and_the_start_date_starts_it(growing: Growing):
    today = timezone.localdate()
    GrowthProfile.objects.filter(pk=growing.profile.pk).update(ends_on=today - timedelta(days=1))
    assert phases.do_apply_all_rules() == 1
    assert GrowthProfile.objects.get(pk=growing.profile.pk).phase == "monitoring"
    # a paused group whose start date is today starts growing, once
    GrowthProfile.objects.filter(pk=growing.profile.pk).update(
        phase="paused", starts_on=today, ends_on=None
    )
    PhaseTransition.objects.all().delete()
    assert phases.do_apply_all_rules() == 1
    assert GrowthProfile.objects.get(pk=growing.profile.pk).phase == "growth"
    # paused by hand later that day: the start rule does not undo it
    phases.do_set_phase(growing.profile.pk, "paused", reason="by hand", by="olga")
    assert phases.do_apply_all_rules() == 0


def test_a_count_round_spreads_the_groups_over_the_interval():
    offsets = [counts.offset_of(group_id, 900.0) for group_id in range(1, 201)]
    assert all(0 <= offset < 900 for offset in offsets)
    # spread, not a burst: every tenth of the interval gets some groups
    assert len({int(offset // 90) for offset in offsets}) == 10
    assert counts.offset_of(17, 900.0) == counts.offset_of(17, 900.0)


def test_a_round_plans_one_job_per_growth_group(growing: Growing, monkeypatch):
    sent: list[tuple[str, Any, Any]] = []
    from gmbot.celery import app

    monkeypatch.setattr(app, "send_task", lambda name, args, **kw: sent.append((name, args, kw)))
    assert counts.do_plan_round() == 1
    ((name, args, options),) = sent
    assert (name, args) == ("tasks.low.refresh_member_count", [growing.group.pk])
    assert 0 <= options["countdown"] < 15 * 60


def admin_says(growing: Growing, text: str, user: int | None = None) -> str:
    growing.sandbox.message(user or growing.owner, growing.chat, text)
    growing.deliver()
    return str(growing.calls("sendMessage", growing.chat)[-1]["params"]["text"])


def test_growth_answers_admins_with_phase_members_and_requests(growing: Growing):
    GrowthProfile.objects.filter(pk=growing.profile.pk).update(member_target=100)
    MemberCount.objects.create(group=growing.group, count=42)
    JoinRequest.objects.create(
        group=growing.group, user_id=1, user_chat_id=1, requested_at=timezone.now(),
        phase_at_arrival="paused", status="held",
    )  # fmt: skip
    answer = admin_says(growing, "/growth")
    # growth's own lines first; apps/members adds activity and the kicker after them
    assert answer.splitlines()[:4] == [
        texts.REPORT_PHASE.format(phase="growth"),
        texts.REPORT_MEMBERS.format(members=42, target=100),
        texts.REPORT_WAITING.format(held=1, messaged=0),
        texts.REPORT_TODAY.format(approved=0, declined=0, queued=0),
    ]


def test_growth_phase_by_an_admin_is_recorded_and_refused_to_others(growing: Growing):
    answer = admin_says(growing, "/growth phase monitoring")
    assert answer == texts.PHASE_SET.format(from_phase="growth", to_phase="monitoring")
    (transition,) = PhaseTransition.objects.all()
    assert transition.by == str(growing.owner) and transition.to_phase == "monitoring"

    stranger = growing.sandbox.create_user("Stranger")["id"]
    growing.sandbox.set_member(growing.chat, stranger, "member")
    growing.skip_pending()
    answer = admin_says(growing, "/growth phase paused", user=stranger)
    assert answer == texts.ADMINS_ONLY.format(command="growth")
    assert GrowthProfile.objects.get(pk=growing.profile.pk).phase == "monitoring"
    assert "unknown phase" in admin_says(growing, "/growth phase sideways")


def test_other_apps_add_lines_to_growth(growing: Growing, monkeypatch):
    monkeypatch.setattr(report, "_sources", [])
    report.add_lines(lambda group, profile: [f"Next kick run: never ({group.title})"])
    assert admin_says(growing, "/growth").splitlines()[-1] == "Next kick run: never (Growing)"


def test_beat_starts_a_count_round_every_interval_and_drives_the_queue_every_minute():
    import celeryconfig

    rounds = celeryconfig.beat_schedule["refresh-member-counts"]
    assert rounds["task"] == "tasks.low.plan_member_counts"
    assert rounds["schedule"].minute == set(range(0, 60, celeryconfig.GROWTH_COUNT_MINUTES))
    assert rounds["options"]["expires"] < celeryconfig.GROWTH_COUNT_MINUTES * 60
    redrive = celeryconfig.beat_schedule["redrive-join-requests"]
    assert redrive["task"] == "tasks.normal.redrive_join_requests"
    assert redrive["schedule"].minute == set(range(60))


def test_a_non_admins_growth_on_a_guarded_bot_is_enforced_not_answered(growing: Growing):
    # given a bot that runs growth and the guard, the group protected by the channel
    from apps.bots.models import Bot
    from apps.guard.models import GroupProtection

    Bot.objects.filter(pk=growing.bot.pk).update(features=["growth", "guard"])
    GroupProtection.objects.create(group=growing.group)
    spammer = growing.sandbox.create_user("Spammer")["id"]
    growing.sandbox.set_member(growing.chat, spammer, "member")
    growing.skip_pending()

    # when a non-subscriber who is no admin sends /growth
    growing.sandbox.message(spammer, growing.chat, "/growth phase paused")
    growing.deliver()

    # then the guard acted on him (muted) and growth said nothing, changed nothing
    assert growing.status(spammer) == "restricted"
    texts_sent = [c["params"]["text"] for c in growing.calls("sendMessage", growing.chat)]
    assert texts.ADMINS_ONLY.format(command="growth") not in texts_sent
    assert GrowthProfile.objects.get(pk=growing.profile.pk).phase == "growth"
