"""The keyboard under a broadcast: JOIN LIVE (a URL) and, when asked for, BAN."""

from __future__ import annotations

from telebot.types import InlineKeyboardButton, InlineKeyboardMarkup

from apps.broadcasts import texts

# The BAN button's callback data: the prefix and the live entry's id. Buttons are out in groups
# once sent, so the prefix is for good.
BAN_PREFIX = "bb:"


def ban_data(live_id: int) -> str:
    return f"{BAN_PREFIX}{live_id}"


def ban_target(data: str | None) -> int | None:
    """The live entry a BAN button names, or None when the data is not a BAN button's."""
    if not data or not data.startswith(BAN_PREFIX):
        return None
    raw = data[len(BAN_PREFIX) :]
    return int(raw) if raw.isdigit() else None


def broadcast_keyboard(join_url: str, ban_live_id: int | None) -> InlineKeyboardMarkup | None:
    buttons = []
    if join_url:
        buttons.append(InlineKeyboardButton(texts.JOIN_LIVE, url=join_url))
    if ban_live_id is not None:
        buttons.append(InlineKeyboardButton(texts.BAN, callback_data=ban_data(ban_live_id)))
    if not buttons:
        return None
    markup = InlineKeyboardMarkup()
    markup.row(*buttons)
    return markup
