"""What apps/members adds to the `/growth` answer (SPEC M3, M4), one line each."""

from __future__ import annotations

ACTIVITY = "Active in the last {days} days: {active} of {present} members the bot has seen"
KICK_OFF = "Kicker: off (no kick rule)"
KICK_RULE = "Kicker: members silent {days} days {action}; next run {at:%Y-%m-%d %H:%M} UTC"
KICK_REMOVES = "are removed"
KICK_DRY_RUN = "are listed, not removed (dry run)"
LAST_NONE = "Last kick run: none yet"
LAST_RUN = (
    "Last kick run, {at:%Y-%m-%d %H:%M} UTC ({status}): {candidates} candidates, "
    "{removed} removed, {skipped} skipped, {errors} errors"
)
LAST_DRY_RUN = (
    "Last kick run, {at:%Y-%m-%d %H:%M} UTC (dry run, {status}): {candidates} candidates, "
    "{listed} would go, {skipped} skipped, {errors} errors"
)
