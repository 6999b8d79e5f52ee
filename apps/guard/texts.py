"""What the guard says, kept apart from the logic that decides when to say it."""

HELP = (
    "Hi! I keep your group for your channel's subscribers: members who have not joined the "
    "channel are muted until they do.\n"
    "\n"
    "Set me up in three steps:\n"
    "1. Add me to your group as an admin who can delete messages and restrict members.\n"
    "2. Add me to your channel as an admin.\n"
    "3. In the group, send /protect @YourChannel\n"
    "\n"
    "Then /status in the group shows what I do there."
)
