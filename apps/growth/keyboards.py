"""The private message's keyboard (SPEC M2): one Join button per channel, then "I've joined"."""

from __future__ import annotations

from telebot.types import InlineKeyboardButton, InlineKeyboardMarkup

from apps.chats.models import Channel
from apps.growth import texts

# Callback data of the "I've joined" button: the prefix and the join request's id (the row knows
# the group and the user). The growth feature's callback prefix, for good once buttons are out.
JOINED_PREFIX = "gj:"


def joined_data(request_id: int) -> str:
    return f"{JOINED_PREFIX}{request_id}"


def joined_target(data: str | None) -> int | None:
    """The join request a button names, or None when the data is not an "I've joined" button's."""
    if not data or not data.startswith(JOINED_PREFIX):
        return None
    raw = data[len(JOINED_PREFIX) :]
    return int(raw) if raw.isdigit() else None


def gate_keyboard(channels: list[Channel], request_id: int) -> InlineKeyboardMarkup:
    markup = InlineKeyboardMarkup()
    for channel in channels:
        if channel.url:
            label = texts.JOIN_BUTTON.format(channel=channel.title or str(channel))
            markup.row(InlineKeyboardButton(label, url=channel.url))
    markup.row(InlineKeyboardButton(texts.JOINED_BUTTON, callback_data=joined_data(request_id)))
    return markup
