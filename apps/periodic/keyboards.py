"""The keyboard under a periodic message: its URL buttons, row by row."""

from __future__ import annotations

from collections.abc import Iterable
from itertools import groupby

from telebot.types import InlineKeyboardButton, InlineKeyboardMarkup

from apps.periodic.models import PeriodicButton


def keyboard(buttons: Iterable[PeriodicButton]) -> InlineKeyboardMarkup | None:
    """The buttons in rows (by `row`, then `position`); None when there are none."""
    ordered = sorted(buttons, key=lambda b: (b.row, b.position, b.pk or 0))
    if not ordered:
        return None
    markup = InlineKeyboardMarkup()
    for _, row in groupby(ordered, key=lambda b: b.row):
        markup.row(*(InlineKeyboardButton(b.text, url=b.url) for b in row))
    return markup
