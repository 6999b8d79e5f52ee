"""Fixtures for the Telegram client's tests: a bot in the sandbox and the database, its TeleBot,
and budgets that start empty."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from telebot import TeleBot

from apps.bots.models import Bot
from apps.telegram import client
from gmbot.redis import get_redis


@pytest.fixture(autouse=True)
def _empty_budgets() -> Iterator[None]:
    """Sandbox ids repeat from test to test: budgets left by another test must not apply."""

    def empty() -> None:
        client = get_redis()
        for key in client.scan_iter("tg:budget:*", count=1000):
            client.delete(key)

    empty()
    yield
    empty()


@pytest.fixture
def bot(make_bot: Any) -> Bot:
    return make_bot()


@pytest.fixture
def telebot(bot: Bot) -> TeleBot:
    return client.telebot_for_token(bot.token)


@pytest.fixture
def reconfigure(settings: Any) -> Iterator[Any]:
    """Change Telegram settings for one test; pyTelegramBotAPI is configured back afterwards."""
    saved: dict[str, Any] = {}

    def apply(**values: Any) -> None:
        for name, value in values.items():
            saved.setdefault(name, getattr(settings, name))
            setattr(settings, name, value)
        client.configure()

    yield apply
    for name, value in saved.items():
        setattr(settings, name, value)
    client.configure()
