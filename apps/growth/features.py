"""The growth feature (SPEC M): phases, the paced join-request queue and member-count history,
as the registry knows it. apps/members adds its activity observer to `observers`."""

from __future__ import annotations

from apps.bots.features import Feature
from apps.growth import handlers, keyboards
from apps.members.observers import record_activity

GROWTH = Feature(
    name="growth",
    label="Growth: phases, paced join requests, member counts (SPEC M)",
    handlers=handlers.register,
    commands=frozenset(handlers.GROUP_COMMANDS),
    callback_prefix=keyboards.JOINED_PREFIX,
    # Join requests to store and decide, messages (the /growth command) and the "I've joined"
    # button in the requester's private chat; chat_member: joins and leaves, for member
    # activity (apps/members, SPEC M3).
    update_kinds=frozenset({"chat_join_request", "message", "callback_query", "chat_member"}),
    # Member activity (SPEC M3): one HSET per update into a Redis buffer.
    observers=(record_activity,),
)
