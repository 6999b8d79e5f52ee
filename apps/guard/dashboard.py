"""The guard on the staff dashboard and on /metrics: groups protected, paused or off, members
verified or restricted, and the verification cache's hits and misses.

Two aggregate queries whatever the number of groups (SPEC M7 asks for a dashboard that stays
fast with 10,000 of them); the cache counts are the Redis hash cache.py keeps.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Count, Q
from prometheus_client.metrics_core import CounterMetricFamily, Metric

from apps.guard import cache
from apps.guard.models import GroupProtection, MemberState
from apps.ops.dashboard import Chart, Panel, Scope, register


def groups_and_members(scope: Scope) -> list[Chart]:
    protections = GroupProtection.objects.all()
    members = MemberState.objects.all()
    if scope.bot_id is not None:
        protections = protections.filter(group__bot_id=scope.bot_id)
        members = members.filter(group__bot_id=scope.bot_id)
    on = Q(enabled=True, group__enabled=True)
    groups = protections.aggregate(
        protected=Count("pk", filter=on & Q(paused_at__isnull=True)),
        paused=Count("pk", filter=on & Q(paused_at__isnull=False)),
        off=Count("pk", filter=~on),
    )
    states = dict(members.values_list("status").annotate(n=Count("pk")).order_by())
    return [
        Chart("bar", labels=["protected", "paused", "off"],
              series={"groups": [groups["protected"], groups["paused"], groups["off"]]}),
        Chart("bar", labels=["verified", "restricted"],
              series={"members": [states.get(MemberState.Status.VERIFIED, 0),
                                  states.get(MemberState.Status.RESTRICTED, 0)]}),
    ]  # fmt: skip


def cache_counts() -> Iterator[Metric]:
    counts = cache.stats()
    for name, what in (("hits", "answered from the cache"), ("misses", "asked from Telegram")):
        family = CounterMetricFamily(f"bot_cache_{name}", f"Membership checks {what}")
        family.add_metric([], counts[name])
        yield family


def register_panels() -> None:
    register(
        Panel(
            "guard",
            "Groups and members (guard)",
            groups_and_members,
            order=20,
            note="protected: on and not paused; paused: the bot lost a right it needs",
        )
    )
