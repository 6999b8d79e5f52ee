"""The one way this project talks to Telegram: pyTelegramBotAPI, configured from settings.

Nothing else builds HTTP calls to the Bot API. One TeleBot per bot per process; the base URL
comes from TELEGRAM_API_URL (the sandbox in tests, the demo and the benchmarks).
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from telebot import TeleBot, apihelper

_bots: dict[str, TeleBot] = {}


def configure() -> None:
    """Point pyTelegramBotAPI at TELEGRAM_API_URL with our timeouts. Makes no call."""
    base = settings.TELEGRAM_API_URL
    # pyTelegramBotAPI declares these as None without a type; they take format strings.
    apihelper.API_URL = base + "/bot{0}/{1}"  # type: ignore[assignment]
    apihelper.FILE_URL = base + "/file/bot{0}/{1}"  # type: ignore[assignment]
    apihelper.CONNECT_TIMEOUT = settings.TELEGRAM_CONNECT_TIMEOUT
    apihelper.READ_TIMEOUT = settings.TELEGRAM_READ_TIMEOUT


def telebot_for_token(token: str) -> TeleBot:
    """The process's TeleBot for this token; created once, reused for every call."""
    key = hashlib.sha256(token.encode()).hexdigest()
    bot = _bots.get(key)
    if bot is None:
        bot = _bots[key] = TeleBot(token, threaded=False, skip_pending=False)
    return bot


def reset_sessions() -> None:
    """Drop the keep-alive session this thread inherited; called in every forked worker child."""
    apihelper._get_req_session(reset=True)
