"""`manage.py addbot` checks the token with Telegram (the sandbox) before storing it."""

from __future__ import annotations

import io
import logging

import pytest
from django.core.management import CommandError, call_command

from apps.bots.models import Bot

pytestmark = pytest.mark.django_db

TOKEN = "7200000001:AAH-addbot-test-token"


def addbot(*args: str, stdin: str | None = None) -> str:
    out = io.StringIO()
    if stdin is not None:
        import sys

        real, sys.stdin = sys.stdin, io.StringIO(stdin)
        try:
            call_command("addbot", *args, stdout=out)
        finally:
            sys.stdin = real
    else:
        call_command("addbot", *args, stdout=out)
    return out.getvalue()


def test_addbot_stores_the_bot_with_its_token_encrypted_and_points_at_setwebhook(sandbox):
    sandbox.create_bot(token=TOKEN, username="guard_one_bot")

    out = addbot("--token", TOKEN, "--owner", "5550001")

    bot = Bot.objects.get()
    assert (bot.telegram_id, bot.username, bot.owner.telegram_id) == (
        7200000001, "guard_one_bot", 5550001
    )  # fmt: skip
    assert bot.token == TOKEN and TOKEN not in bot.encrypted_token
    # No secret to copy: setwebhook is the one place a webhook secret is made.
    assert out.splitlines() == [
        "Added @guard_one_bot (id 7200000001).",
        "Next: python manage.py setwebhook --bot @guard_one_bot points Telegram at this "
        "deployment with a fresh webhook secret (only its hash is kept), or, without a public "
        "URL, python manage.py runbot --bot @guard_one_bot fetches the updates itself.",
    ]
    assert len(bot.webhook_secret_hash) == 64
    assert [call["method"] for call in sandbox.calls()] == ["getMe"]


def test_addbot_again_updates_the_token_without_a_new_secret(sandbox):
    sandbox.create_bot(token=TOKEN, username="guard_one_bot")
    addbot("--token", TOKEN)
    first_hash = Bot.objects.get().webhook_secret_hash

    out = addbot("--token", "-", stdin=TOKEN + "\n")

    assert "Updated @guard_one_bot" in out
    assert Bot.objects.get().webhook_secret_hash == first_hash


def test_a_token_telegram_refuses_is_a_clear_error_and_nothing_is_stored(sandbox):
    with pytest.raises(CommandError, match="Telegram refused the token: Unauthorized"):
        addbot("--token", "7200000009:not-a-token-telegram-knows")
    assert not Bot.objects.exists()


def test_telegram_down_is_not_called_a_refused_token_and_nothing_is_stored(sandbox):
    # given a good token, while Telegram answers 502 to getMe
    sandbox.create_bot(token=TOKEN, username="guard_one_bot")
    sandbox.fault("getMe", error_code=502, description="Bad Gateway")

    # then the owner is told to try again, not that the token is bad
    with pytest.raises(CommandError, match=r"Telegram did not answer .*try again in a minute"):
        addbot("--token", TOKEN)
    assert not Bot.objects.exists()

    # and once Telegram answers, the same token is added
    sandbox.clear_faults()
    assert "Added @guard_one_bot" in addbot("--token", TOKEN)


def test_a_malformed_token_is_refused_before_calling_telegram(sandbox):
    with pytest.raises(CommandError, match="not a bot token"):
        addbot("--token", "hello world")
    assert sandbox.calls() == []


def test_the_token_never_reaches_the_logs(sandbox, caplog):
    sandbox.create_bot(token=TOKEN, username="guard_one_bot")
    with caplog.at_level(logging.DEBUG):
        addbot("--token", TOKEN)
    secret_part = TOKEN.split(":")[1]
    assert secret_part not in caplog.text
