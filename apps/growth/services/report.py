"""The `/growth` answer (SPEC M1): phase, members now and the target, join requests waiting and
decided today; then the lines other apps add.

Other features add their lines with `add_lines(fn)`, `fn(group, profile) -> list[str]`, in their
AppConfig.ready() (apps/members: the activity and the next and last kick run). A source that
fails is logged and left out; the rest of the answer still goes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, time

from django.db.models import Count, Q
from django.utils import timezone

from apps.chats.models import Group
from apps.growth import texts
from apps.growth.models import GrowthProfile, JoinRequest
from apps.growth.services.phases import latest_count

logger = logging.getLogger(__name__)

Status = JoinRequest.Status
LineSource = Callable[[Group, GrowthProfile], list[str]]
_sources: list[LineSource] = []


def add_lines(source: LineSource) -> None:
    """Add a source of /growth lines (after growth's own), once."""
    if source not in _sources:
        _sources.append(source)


def request_counts(group: Group) -> dict[str, int]:
    """Waiting and decided-today counts, in one aggregate query."""
    day_began = timezone.make_aware(datetime.combine(timezone.localdate(), time.min))
    today = Q(decided_at__gte=day_began)
    return group.join_requests.aggregate(
        held=Count("pk", filter=Q(status=Status.HELD)),
        messaged=Count("pk", filter=Q(status=Status.MESSAGED)),
        approved=Count("pk", filter=today & Q(status=Status.APPROVED)),
        declined=Count("pk", filter=today & Q(status=Status.DECLINED)),
        queued=Count("pk", filter=today & Q(status__in=JoinRequest.QUEUED)),
    )


def growth_lines(group: Group, profile: GrowthProfile) -> list[str]:
    target = profile.member_target if profile.member_target is not None else texts.NO_TARGET
    latest = latest_count(group.pk)
    members = (
        texts.REPORT_MEMBERS.format(members=latest.count, target=target)
        if latest is not None
        else texts.REPORT_MEMBERS_UNKNOWN.format(target=target)
    )
    counts = request_counts(group)
    return [
        texts.REPORT_PHASE.format(phase=profile.phase),
        members,
        texts.REPORT_WAITING.format(**counts),
        texts.REPORT_TODAY.format(**counts),
    ]


def report_text(group: Group, profile: GrowthProfile) -> str:
    lines = growth_lines(group, profile)
    for source in _sources:
        try:
            lines += source(group, profile)
        except Exception:
            logger.exception("growth: /growth lines from %s failed", source.__qualname__)
    return "\n".join(lines)
