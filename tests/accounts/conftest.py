"""A bot running the accounts feature in the sandbox's Telegram, and in-process delivery.

`PrivateChats.deliver()` feeds every update the sandbox produced for the bot, in order, to
`apps.ingress.dispatch.process_update` — the worker's own entry point — and runs the jobs the
handlers queue (referrer told, clone registered) in this process with Celery's own eager mode,
once the transaction they wait for commits. Real Redis, PostgreSQL and the sandbox over HTTP;
the webhook and real workers are in test_end_to_end.py.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from celery.signals import task_prerun
from django.utils import timezone

import tasks.high
import tasks.low
import tasks.normal  # noqa: F401 - the jobs the handlers queue run from these modules
from apps.accounts.models import Account
from apps.bots.models import Bot
from apps.ingress import dispatch
from apps.live.services import do_upsert_live
from gmbot.celery import _drop_broken_db_connection
from gmbot.celery import app as celery_app
from sandbox.client import Sandbox
from tests.factories import OwnerFactory


def bot_token(telegram_id: int) -> str:
    """A token shaped like @BotFather's (the id, a colon, 35 characters)."""
    return f"{telegram_id}:AA{secrets.token_urlsafe(26)[:33]}"


@dataclass
class PrivateChats:
    sandbox: Sandbox
    bot: Bot
    capture: Callable[..., AbstractContextManager[Any]]
    seen: dict[str, int] = field(default_factory=dict)

    def deliver(self, bot: Bot | None = None) -> None:
        bot = bot or self.bot
        while True:
            fresh = self.sandbox.updates(bot=bot.username, since=self.seen.get(bot.username, 0))
            if not fresh:
                return
            for item in fresh:
                self.seen[bot.username] = max(self.seen.get(bot.username, 0), item["update_id"])
                with self.capture(execute=True):
                    dispatch.process_update(bot.pk, item["update"])

    def user(self, name: str, **kw: Any) -> int:
        return int(self.sandbox.create_user(name, **kw)["id"])

    def start(self, user_id: int, payload: str | None = None, bot: Bot | None = None) -> None:
        self.sandbox.start(user_id, (bot or self.bot).username, payload)
        self.deliver(bot)

    def say(self, user_id: int, text: str, bot: Bot | None = None) -> int:
        sent = self.sandbox.message(user_id, None, text, bot=(bot or self.bot).username)
        self.deliver(bot)
        return int(sent["message_id"])

    def press(self, user_id: int, message_id: int, data: str) -> None:
        self.sandbox.press(user_id, user_id, message_id, data, bot=self.bot.username)
        self.deliver()

    def calls(self, method: str, chat_id: int | None = None, bot: Bot | None = None) -> list[dict]:
        calls = self.sandbox.calls(bot=(bot or self.bot).username, method=method, chat_id=chat_id)
        return [call for call in calls if call["status"] == 200]

    def texts(self, chat_id: int, bot: Bot | None = None) -> list[str]:
        """What the bot sent to the chat, in order."""
        return [call["params"]["text"] for call in self.calls("sendMessage", chat_id, bot)]

    def last(self, chat_id: int) -> dict[str, Any]:
        """The bot's last message in the private chat, as it stands now (edits included)."""
        mine = [
            m
            for m in self.sandbox.messages(chat_id, bot=self.bot.username)
            if m.get("from", {}).get("id") == self.bot.telegram_id
        ]
        return mine[-1]

    def message(self, chat_id: int, message_id: int) -> dict[str, Any]:
        """One message of the private chat, as it stands now."""
        found = self.sandbox.messages(chat_id, bot=self.bot.username)
        return next(m for m in found if m["message_id"] == message_id)

    def buttons(self, message: dict[str, Any]) -> dict[str, str]:
        """text → callback_data (or url) of a message's buttons."""
        rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
        return {b["text"]: b.get("callback_data") or b.get("url") for row in rows for b in row}

    def account(self, user_id: int, bot: Bot | None = None) -> Account:
        return Account.objects.get(bot=bot or self.bot, telegram_id=user_id)


@pytest.fixture(autouse=True)
def _empty_redis(redis_client):
    """No claims, limits, views or conversations from another test (bot ids repeat)."""
    redis_client.flushdb()
    yield


@pytest.fixture
def jobs_run_here() -> Iterator[None]:
    """The jobs handlers queue run at once in this process (Celery's eager mode). They run
    inside the test's transaction, so the worker's habit of dropping a connection between jobs
    (gmbot/celery.py) is left out: here it would end the test's transaction."""
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    task_prerun.disconnect(_drop_broken_db_connection)
    yield
    task_prerun.connect(_drop_broken_db_connection)
    celery_app.conf.task_always_eager = False
    celery_app.conf.task_eager_propagates = False


@pytest.fixture
def chats(
    sandbox, make_bot, jobs_run_here, django_capture_on_commit_callbacks, settings
) -> PrivateChats:
    """A bot that runs only the accounts feature. A private chat takes one message a second,
    at Telegram and in the budgets (tested in tests/telegram); the users here tap faster, and
    waiting for each answer would only slow the tests down."""
    settings.TELEGRAM_PRIVATE_LIMIT = 1000
    sandbox.set_limits(enabled=False)
    return PrivateChats(
        sandbox, make_bot(features=["accounts"]), django_capture_on_commit_callbacks
    )


@pytest.fixture
def live_now() -> Callable[[int], list[int]]:
    """`live_now(n)`: n entries live now (the newest first), and one that is not."""

    def make(n: int) -> list[int]:
        owner = OwnerFactory()
        now = timezone.now()
        ids = []
        for i in range(n):
            entry, _ = do_upsert_live(
                owner,
                "twitch",
                f"streamer{i}",
                title=f"Stream {i}",
                url=f"https://twitch.tv/streamer{i}",
                live_since=now - timedelta(minutes=i),
                is_live=True,
            )
            ids.append(entry.pk)
        do_upsert_live(owner, "tiktok", "offline", url="https://tiktok.com/@offline", is_live=False)
        return ids

    return make
