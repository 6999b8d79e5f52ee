"""The inline keyboards of the private chat. Every callback_data starts with the accounts
feature's prefix, `ac:` (64 bytes at most; these need at most 30)."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import quote

from telebot.types import InlineKeyboardButton, InlineKeyboardMarkup

from apps.accounts import texts
from apps.live.models import LiveEntry

PREFIX = "ac:"
LIVE = PREFIX + "live"
ACCOUNT = PREFIX + "acct"
CLONE = PREFIX + "clone"
HELP = PREFIX + "help"
PAGE = PREFIX + "pg:"  # + the page number
CHOOSE = PREFIX + "cf:"  # + a feature's name: choose it for the clone, or not
CONTINUE = PREFIX + "cn"
CANCEL = PREFIX + "cx"
REMOVE = PREFIX + "rm:"  # + the clone's bot id: ask
REMOVE_YES = PREFIX + "rmy:"  # + the clone's bot id: do it


def _button(text: str, data: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(text, callback_data=data)


def menu() -> InlineKeyboardMarkup:
    markup = InlineKeyboardMarkup()
    markup.row(_button(texts.BUTTON_LIVE, LIVE), _button(texts.BUTTON_ACCOUNT, ACCOUNT))
    markup.row(_button(texts.BUTTON_CLONE, CLONE), _button(texts.BUTTON_HELP, HELP))
    return markup


def account_menu(removable: list[tuple[int, str]] | None = None) -> InlineKeyboardMarkup:
    markup = InlineKeyboardMarkup()
    markup.row(_button(texts.BUTTON_LIVE, LIVE), _button(texts.BUTTON_CLONE, CLONE))
    for bot_id, username in removable or []:
        markup.row(_button(texts.BUTTON_REMOVE.format(bot=username), f"{REMOVE}{bot_id}"))
    return markup


def earn(link: str) -> InlineKeyboardMarkup:
    share = f"https://t.me/share/url?url={quote(link, safe='')}&text={quote(texts.SHARE_TEXT)}"
    markup = InlineKeyboardMarkup()
    markup.row(InlineKeyboardButton(texts.BUTTON_SHARE, url=share))
    markup.row(_button(texts.BUTTON_ACCOUNT, ACCOUNT), _button(texts.BUTTON_LIVE, LIVE))
    return markup


def live_page(entries: Sequence[LiveEntry], number: int, pages: int) -> InlineKeyboardMarkup:
    markup = InlineKeyboardMarkup()
    for entry in entries:
        label = texts.BUTTON_WATCH.format(handle=entry.handle, platform=entry.platform)
        markup.row(InlineKeyboardButton(label, url=entry.url))
    turns = []
    if number > 1:
        turns.append(_button(texts.BUTTON_PREVIOUS, f"{PAGE}{number - 1}"))
    if number < pages:
        turns.append(_button(texts.BUTTON_NEXT, f"{PAGE}{number + 1}"))
    if turns:
        markup.row(*turns)
    return markup


def clone_features(choices: list[tuple[str, str]], chosen: list[str]) -> InlineKeyboardMarkup:
    markup = InlineKeyboardMarkup()
    for name, label in choices:
        template = texts.BUTTON_CHOSEN if name in chosen else texts.BUTTON_NOT_CHOSEN
        markup.row(_button(template.format(label=label), f"{CHOOSE}{name}"))
    markup.row(_button(texts.BUTTON_CONTINUE, CONTINUE), _button(texts.BUTTON_CANCEL, CANCEL))
    return markup


def remove_confirm(bot_id: int, username: str) -> InlineKeyboardMarkup:
    markup = InlineKeyboardMarkup()
    markup.row(
        _button(texts.BUTTON_REMOVE_YES.format(bot=username), f"{REMOVE_YES}{bot_id}"),
        _button(texts.BUTTON_KEEP, ACCOUNT),
    )
    return markup


def id_after(data: str, prefix: str) -> int | None:
    raw = data[len(prefix) :]
    return int(raw) if raw.isdigit() else None
