"""Checking a periodic message's definition before it is saved (the admin form calls this).

What is refused: a bot that does not run the feature; chosen groups of another bot, or none
when not sending to all groups; no text and no photo; a text or caption longer than Telegram
takes; a schedule beat could not run (services/schedule.py).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError

from apps.bots.models import Bot
from apps.chats.models import Group
from apps.periodic.features import NAME as FEATURE
from apps.periodic.models import CAPTION_MAX, TEXT_MAX
from apps.periodic.services.schedule import Schedule, check_schedule


def check_definition(
    bot: Bot, text: str, photo: str, all_groups: bool, groups: Iterable[Group], schedule: Schedule
) -> None:
    """Raise ValidationError, keyed by field, for a definition that cannot be sent as asked."""
    errors: dict[str, str] = {}
    if FEATURE not in (bot.features or []):
        errors["bot"] = (
            f"{bot} does not run the periodic feature: add “{FEATURE}” to its features first."
        )
    chosen = list(groups)
    if not all_groups and not chosen:
        errors["groups"] = "Choose groups, or send to all groups of the bot."
    strangers = [str(group) for group in chosen if group.bot_id != bot.pk]
    if strangers:
        errors["groups"] = f"Not groups of {bot}: {', '.join(strangers)}."
    if photo:
        if len(text) > CAPTION_MAX:
            errors["text"] = f"A photo's caption takes at most {CAPTION_MAX:,} characters."
    elif not text.strip():
        errors["text"] = "Write the message, or give a photo."
    elif len(text) > TEXT_MAX:
        errors["text"] = f"A message takes at most {TEXT_MAX:,} characters."
    try:
        check_schedule(schedule)
    except ValidationError as exc:
        errors.update({field: " ".join(messages) for field, messages in exc.message_dict.items()})
    if errors:
        raise ValidationError(errors)
