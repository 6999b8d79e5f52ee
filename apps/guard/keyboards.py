"""The inline keyboard under a warning: one "Join" URL button per missing channel, then verify."""

from __future__ import annotations

from telebot.types import InlineKeyboardButton, InlineKeyboardMarkup

from apps.chats.models import Channel

# Callback data of the verify button: the prefix and the warned user's id, so the button knows
# whose it is without any lookup (64 bytes at most; this needs at most 23). The prefix is the
# guard feature's callback prefix, and stays "gv:": buttons already posted in groups carry it.
VERIFY_PREFIX = "gv:"


def verify_data(user_id: int) -> str:
    return f"{VERIFY_PREFIX}{user_id}"


def verify_target(data: str | None) -> int | None:
    """The user a verify button belongs to, or None when the data is not a verify button's."""
    if not data or not data.startswith(VERIFY_PREFIX):
        return None
    raw = data[len(VERIFY_PREFIX) :]
    return int(raw) if raw.isdigit() else None


def warning_keyboard(
    channels: list[Channel], user_id: int, join_text: str, verify_text: str
) -> InlineKeyboardMarkup:
    markup = InlineKeyboardMarkup()
    for channel in channels:
        if channel.url:
            label = join_text.replace("{channel}", channel.title or str(channel))
            markup.row(InlineKeyboardButton(label, url=channel.url))
    markup.row(InlineKeyboardButton(verify_text, callback_data=verify_data(user_id)))
    return markup
