"""Phases (SPEC M1): a group's growth profile, its transitions by rule and by hand.

Rules, applied after each member-count refresh and hourly:
- `growth` → `monitoring` once the latest recorded member count reaches the target, or once the
  end date has passed;
- `paused` → `growth` on the start date, unless someone changed the phase since that day began
  (a pause made by hand on the start day stands).
Every change, by rule or by hand, is a PhaseTransition row.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time

from django.db import transaction
from django.utils import timezone

from apps.chats.models import Group
from apps.growth.models import GrowthProfile, MemberCount, PhaseTransition

logger = logging.getLogger(__name__)

Phase = GrowthProfile.Phase
RULE = "rule"


class PhaseError(ValueError):
    """A phase that does not exist, or a change that changes nothing."""


def check_phase(name: str) -> str:
    """The phase called `name`, or PhaseError naming the phases there are."""
    value = name.strip().lower()
    if value not in Phase.values:
        raise PhaseError(f"unknown phase {name!r} (phases: {', '.join(Phase.values)})")
    return value


def profile_of(group: Group) -> GrowthProfile:
    """The group's profile, created in `growth` with no rules the first time it is asked for."""
    profile, _ = GrowthProfile.objects.get_or_create(group=group)
    return profile


def latest_count(group_id: int) -> MemberCount | None:
    return MemberCount.objects.filter(group_id=group_id).order_by("-at").first()


def do_set_phase(profile_id: int, to_phase: str, *, reason: str, by: str) -> PhaseTransition | None:
    """Move the profile to `to_phase` and record why and by whom. None when it is in that phase
    already. Locks the profile row for the change, so two changes at once are recorded in the
    order they were made, each from the phase the other left."""
    with transaction.atomic():
        profile = GrowthProfile.objects.select_for_update().get(pk=profile_id)
        if profile.phase == to_phase:
            return None
        transition = PhaseTransition.objects.create(
            profile=profile,
            from_phase=profile.phase,
            to_phase=to_phase,
            reason=reason[:255],
            by=by[:64],
        )
        GrowthProfile.objects.filter(pk=profile.pk).update(
            phase=to_phase, updated_at=timezone.now()
        )
    logger.info(
        "group %s: phase %s → %s by %s (%s)",
        profile.group_id, transition.from_phase, to_phase, by, reason,
    )  # fmt: skip
    return transition


@dataclass(frozen=True)
class RuleVerdict:
    to_phase: str
    reason: str


def check_rules(profile: GrowthProfile, today: date | None = None) -> RuleVerdict | None:
    """What the profile's rules say its phase should become now, or None."""
    today = today or timezone.localdate()
    if profile.phase == Phase.GROWTH:
        if profile.member_target is not None:
            latest = latest_count(profile.group_id)
            if latest is not None and latest.count >= profile.member_target:
                return RuleVerdict(
                    Phase.MONITORING,
                    f"member target reached: {latest.count} of {profile.member_target}",
                )
        if profile.ends_on is not None and today > profile.ends_on:
            return RuleVerdict(Phase.MONITORING, f"end date {profile.ends_on} passed")
    if profile.phase == Phase.PAUSED and profile.starts_on == today:
        day_began = timezone.make_aware(datetime.combine(today, time.min))
        if not profile.transitions.filter(at__gte=day_began).exists():
            return RuleVerdict(Phase.GROWTH, f"start date {profile.starts_on}")
    return None


def do_apply_rules(profile: GrowthProfile, today: date | None = None) -> PhaseTransition | None:
    """Make the transition the rules call for, if any. Locks as do_set_phase."""
    verdict = check_rules(profile, today)
    if verdict is None:
        return None
    return do_set_phase(profile.pk, verdict.to_phase, reason=verdict.reason, by=RULE)


def do_apply_all_rules() -> int:
    """The rules of every profile whose group is enabled; the number of transitions made."""
    made = 0
    profiles = GrowthProfile.objects.filter(
        group__enabled=True, phase__in=[Phase.GROWTH, Phase.PAUSED]
    )
    for profile in profiles.iterator():
        if do_apply_rules(profile) is not None:
            made += 1
    return made
