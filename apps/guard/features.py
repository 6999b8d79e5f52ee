"""The guard feature (SPEC G): channel-subscription enforcement, as the registry knows it."""

from __future__ import annotations

from apps.bots.features import Feature
from apps.guard import handlers, keyboards

GUARD = Feature(
    name="guard",
    label="Guard: only channel subscribers may speak (SPEC G)",
    handlers=handlers.register,
    commands=frozenset([*handlers.PRIVATE_COMMANDS, *handlers.GROUP_COMMANDS]),
    callback_prefix=keyboards.VERIFY_PREFIX,
    # Messages and edits to enforce, the verify button, joins and channel leaves, and the bot's
    # own demotion or removal.
    update_kinds=frozenset(
        {"message", "edited_message", "callback_query", "chat_member", "my_chat_member"}
    ),
)
