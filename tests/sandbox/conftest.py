"""Fixtures for the sandbox's own tests: one sandbox process for the session, a clean world for
every test, and a check that everything the sandbox emitted matched the Bot API spec."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import telebot
from telebot import apihelper

from sandbox.client import Sandbox
from sandbox.testing import running_sandbox
from tests.sandbox.schema import problems_of, returns_of

TOKEN = "5000001:AAH-guard-token"
OTHER_TOKEN = "5000002:AAH-other-token"


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[Sandbox]:
    # Limits stay off except in the tests about them, so functional tests never see a 429.
    with running_sandbox(enabled=False) as client:
        yield client


def emitted_problems(sb: Sandbox) -> list[str]:
    """Every result and update given out since the last reset, checked against the spec."""
    problems: list[str] = []
    for call in sb.calls():
        response = call["response"]
        where = f"call {call['seq']} {call['method']}"
        if response.get("ok") is True:
            problems += problems_of(response["result"], returns_of(call["method"]), where)
        elif not (
            isinstance(response.get("error_code"), int)
            and isinstance(response.get("description"), str)
        ):
            problems.append(f"{where}: malformed error {response}")
    for update in sb.updates():
        problems += problems_of(update["update"], ["Update"], f"update {update['update_id']}")
    return problems


@pytest.fixture
def sb(sandbox_server: Sandbox) -> Iterator[Sandbox]:
    sandbox_server.reset()
    yield sandbox_server
    problems = emitted_problems(sandbox_server)
    assert not problems, "objects outside the Bot API spec:\n" + "\n".join(problems)


@pytest.fixture
def world(sb: Sandbox) -> dict[str, Any]:
    """A guard bot admin of a supergroup owned by Alice, with Bob as a member."""
    bot = sb.create_bot(TOKEN, "guard_bot")
    alice = sb.create_user("Alice", username="alice")
    bob = sb.create_user("Bob", username="bob")
    group = sb.create_chat("supergroup", title="Fans", owner_id=alice["id"])
    sb.set_member(group["id"], bob["id"], "member")
    sb.add_bot("guard_bot", group["id"], status="administrator")
    return {"bot": bot, "alice": alice, "bob": bob, "group": group}


@pytest.fixture
def tb(sb: Sandbox) -> Iterator[telebot.TeleBot]:
    """Plain pyTelegramBotAPI pointed at the sandbox: these tests check the sandbox against the
    library itself, so the project's own request sender (budgets, error mapping) is set aside."""
    previous = apihelper.API_URL, apihelper.CUSTOM_REQUEST_SENDER
    apihelper.API_URL = sb.bot_api_url + "/bot{0}/{1}"
    apihelper.CUSTOM_REQUEST_SENDER = None
    yield telebot.TeleBot(TOKEN, threaded=False)
    apihelper.API_URL, apihelper.CUSTOM_REQUEST_SENDER = previous
