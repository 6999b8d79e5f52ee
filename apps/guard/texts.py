"""What the guard says, kept apart from the logic that decides when to say it."""

from __future__ import annotations

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

# ---- refusals ---------------------------------------------------------------------------------

ADMINS_ONLY = "Sorry, only the group's admins can use /{command}."
NOT_PROTECTED = "This group is not protected yet. An admin can start with /protect @YourChannel."
PROTECT_USAGE = (
    "Please name the channel(s) members must join, e.g. /protect @YourChannel "
    "(a numeric channel id works too; several channels may follow)."
)
UNPROTECT_UNKNOWN = "{channel} is not one of this group's channels, so nothing changed."
CHECK_FAILED = "Sorry, I could not reach Telegram to check that. Please try again in a minute."

# ---- /protect and /reactivate -----------------------------------------------------------------

STEP_OK = "✅ {what}"
STEP_FAILED = "❌ {what}"
CHECKS_HEADER = "Checking what protection needs:"
CHECK_CALLER_ADMIN = "you are an admin of this group"
CHECK_BOT_ADMIN = "I am an admin of this group"
CHECK_BOT_RIGHTS = "I may delete messages and restrict members here"
CHECK_BOT_RIGHTS_MISSING = (
    "I may delete messages and restrict members here — please give me: {rights}"
)
CHECK_CHANNEL_FOUND = "I can see {channel}"
CHECK_CHANNEL_NOT_FOUND = (
    "I cannot find {channel} — check the name, and add me to the channel as an admin"
)
CHECK_NOT_A_CHANNEL = "{channel} is a channel — it is a group, not a channel"
CHECK_CHANNEL_ADMIN = "I am an admin of {channel}"
CHECK_CHANNEL_NOT_ADMIN = (
    "I am an admin of {channel} — please add me to the channel as an admin, so I can see "
    "who is subscribed"
)
PROTECT_FAILED = "Protection is not active yet. Fix what is marked ❌ and send the command again."
PROTECT_DONE = (
    "🛡 Protection is active. From now on only subscribers of {channels} can write here; "
    "others are muted until they join."
)
REACTIVATE_DONE = "🛡 Everything is in order again: protection is active."
REACTIVATE_NOT_PAUSED = "Protection is already active here; nothing to reactivate."

# ---- /unprotect, /status, /settings -------------------------------------------------------------

UNPROTECT_CHANNEL = "{channel} no longer protects this group."
UNPROTECT_ALL = (
    "Protection is off: everyone may write here again. Members I muted stay muted until an "
    "admin lifts it or they press the button under my warning."
)
STATUS = (
    "🛡 Protection: {state}\n"
    "Channels: {channels}\n"
    "Members verified: {verified}\n"
    "Members restricted: {restricted}"
)
STATE_ACTIVE = "active"
STATE_OFF = "off"
STATE_PAUSED = "paused — {reason}. Fix it, then send /reactivate"
NO_CHANNELS = "none"
SETTINGS = (
    "Settings for this group:\n"
    "• warning: {warning}\n"
    "• join button: {join_button}\n"
    "• verify button: {verify_button}\n"
    "• mode: {mode} ({mode_meaning})\n"
    "\n"
    "Change one with:\n"
    "/settings warning <text> — {{name}} and {{channels}} are filled in\n"
    "/settings join_button <text> — {{channel}} is filled in\n"
    "/settings verify_button <text>\n"
    "/settings mode delete|mute\n"
    "/settings reset — back to the defaults"
)
MODE_MEANINGS = {
    "delete": "a non-subscriber's message is deleted and the sender muted",
    "mute": "the sender is muted, the message stays",
}
SETTINGS_SAVED = "Saved. /settings shows them all."
SETTINGS_RESET = "Settings are back to the defaults."
SETTINGS_UNKNOWN = (
    "I don't know that setting. Use warning, join_button, verify_button, mode or reset — "
    "/settings shows them all."
)
SETTINGS_BAD_MODE = "The mode is either delete or mute."
SETTINGS_EMPTY = "Please give the new text after the setting's name."

# ---- warnings and the verify button -----------------------------------------------------------

DEFAULT_WARNING = (
    "{name}, this group is for subscribers of {channels}. Join, then press the button below "
    "to write here."
)
LEFT_CHANNEL_WARNING = (
    "{name}, you left {channels}, so you can no longer write here. Join again, then press the "
    "button below."
)
DEFAULT_JOIN_BUTTON = "Join {channel}"
DEFAULT_VERIFY_BUTTON = "✅ I've joined"
VERIFY_NOT_YOURS = "This button is for the member who was warned. Thank you!"
VERIFY_MISSING = "Not yet: please join {channels} first, then press again."
VERIFY_DONE = "Thank you! You can write in the group now."
VERIFY_NOT_PROTECTED = "This group is no longer protected: you can write."
VERIFY_PAUSED = (
    "I can't check right now: the group's protection is paused. The admins have been told."
)

# ---- lost rights ------------------------------------------------------------------------------

PAUSE_REASONS = {
    "demoted": "I am no longer an admin of the group",
    "removed": "I was removed from the group",
    "missing_rights": "I may no longer delete messages or restrict members in the group",
    "channel_demoted": "I am no longer an admin of {channel}",
    "not_enough_rights": "Telegram refused an action for lack of rights",
}
OWNER_PAUSED = (
    "⚠️ I paused protection in «{group}»: {reason}.\n"
    "\n"
    "To fix it:\n"
    "1. Make me an admin of the group with the rights to delete messages and restrict members.\n"
    "2. Make me an admin of every protected channel ({channels}).\n"
    "3. Send /reactivate in the group.\n"
    "\n"
    "Until then I do not check anyone there."
)
