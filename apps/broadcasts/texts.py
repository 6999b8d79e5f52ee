"""What the broadcasts feature says, apart from the logic that decides when."""

from __future__ import annotations

JOIN_LIVE = "JOIN LIVE"
BAN = "BAN"
# The debug code under every broadcast message: support finds the delivery by it.
DEBUG_LINE = "\n\n{code}"

BAN_ADMINS_ONLY = "Only this group's admins can ban a live from being promoted here."
BANNED = "Done: {live} will not be promoted in this group again."
BAN_GONE = "This live is no longer known; the message is removed."

GROUP_DEACTIVATED = (
    "I stopped sending broadcasts to «{group}»: the last {failures} tries failed in a row "
    "(last: {reason}). Once the bot can post there again, staff can turn broadcasts back on for "
    "the group in the admin."
)
