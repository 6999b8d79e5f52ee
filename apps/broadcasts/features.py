"""The broadcasts feature (SPEC B) as the registry knows it: the BAN button under a broadcast."""

from __future__ import annotations

from apps.bots.features import Feature
from apps.broadcasts import handlers, keyboards

BROADCASTS = Feature(
    name="broadcasts",
    label="Broadcasts: promote a live entry to every group, and take it back (SPEC B)",
    handlers=handlers.register,
    callback_prefix=keyboards.BAN_PREFIX,
    update_kinds=frozenset({"callback_query"}),
)
