"""What the growth feature says, in one place (SPEC M1, M2)."""

from __future__ import annotations

GATE = (
    "Thanks for asking to join {group}! It is open to subscribers of {channels}. "
    "Join, then press “I've joined” and your request is approved."
)
JOIN_BUTTON = "Join {channel}"
JOINED_BUTTON = "I've joined"
JOINED_NOT_YOURS = "This button is not for you."
JOINED_MISSING = "Not yet: please join {channels} first, then press the button again."
JOINED_DONE = "Thank you! Your request is approved; you will be in the group in a moment."
JOINED_ALREADY = "Your request has been handled already."

ADMINS_ONLY = "Only the group's admins can use /{command}."
USAGE = (
    "/growth: the group's phase, members and join requests.\n"
    "/growth phase growth|monitoring|paused: change the phase."
)
PHASE_SET = "Phase: {from_phase} → {to_phase}."
PHASE_SAME = "The group is in {phase} already."

# /growth: one line each; features that add lines (apps/members: activity, the kicker) add them
# through apps.growth.services.report.add_lines.
REPORT_PHASE = "Phase: {phase}"
REPORT_MEMBERS = "Members: {members} (target {target})"
REPORT_MEMBERS_UNKNOWN = "Members: not counted yet (target {target})"
REPORT_WAITING = "Join requests waiting: {held} held, {messaged} asked to join the channel"
REPORT_TODAY = "Decided today: {approved} approved, {declined} declined, {queued} on their way"
NO_TARGET = "none"
