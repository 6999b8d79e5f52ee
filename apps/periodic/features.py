"""The periodic-messages feature (SPEC M6) as the registry knows it.

It answers no command and no button: its messages are defined in the admin and sent by beat.
A bot must run it for its periodic messages to go out (a bot that stops running it gets its runs
recorded as skipped), so an owner switches them all off for a bot in one place.
"""

from __future__ import annotations

from apps.bots.features import Feature

NAME = "periodic"

PERIODIC = Feature(
    name=NAME,
    label="Periodic messages: text or photo with buttons, on a schedule (SPEC M6)",
)
