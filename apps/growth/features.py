"""The growth feature (SPEC M): phases, the paced join-request queue and member-count history,
as the registry knows it. apps/members adds its activity observer to `observers`."""

from __future__ import annotations

from apps.bots.features import Feature
from apps.members.observers import record_activity

GROWTH = Feature(
    name="growth",
    label="Growth: phases, paced join requests, member counts (SPEC M)",
    # Join requests to store and decide, and messages (the /growth command).
    # chat_member: joins and leaves for member activity (apps/members, SPEC M3).
    update_kinds=frozenset({"chat_join_request", "message", "chat_member"}),
    observers=(record_activity,),
)
