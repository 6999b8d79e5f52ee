"""The Bot API rules the kicker relies on, as the sandbox applies them, each checked against the
description in tests/data/telegram-bot-api/api.json (quoted)."""

from __future__ import annotations

import json

import pytest
import requests

from sandbox.client import SandboxError
from tests.data import BOT_API_SPEC
from tests.members.conftest import Managed

pytestmark = pytest.mark.django_db

API = BOT_API_SPEC


def described(method: str) -> str:
    """The method's description and its fields', as Telegram publishes them."""
    entry = json.loads(API.read_text())["methods"][method]
    fields = " ".join(field.get("description", "") for field in entry.get("fields", []))
    return " ".join(entry["description"]) + " " + fields


def call(managed: Managed, method: str, **params: object) -> dict:
    url = managed.sandbox.api_url(managed.bot.token, method)
    return dict(requests.post(url, json=params, timeout=5).json())


def test_a_banned_member_cannot_come_back_until_unbanned_and_then_can(managed):
    assert "will not be able to return to the chat on their own" in described("banChatMember")
    assert "will be able to join via link" in described("unbanChatMember")
    # given a member banned from the supergroup
    sam = managed.member("Sam")
    assert call(managed, "banChatMember", chat_id=managed.chat_id, user_id=sam)["ok"]

    # then Sam cannot join by himself
    with pytest.raises(SandboxError):
        managed.sandbox.join(sam, managed.chat_id)

    # and once unbanned (only if banned) he is out of the group and may join again
    assert call(managed, "unbanChatMember", chat_id=managed.chat_id, user_id=sam,
                only_if_banned=True)["ok"]  # fmt: skip
    assert managed.status(sam) == "left"
    assert managed.sandbox.join(sam, managed.chat_id)["status"] == "member"


def test_unban_only_if_banned_leaves_a_present_member_alone(managed):
    assert "Do nothing if the user is not banned" in described("unbanChatMember")
    ann = managed.member("Ann")
    assert call(managed, "unbanChatMember", chat_id=managed.chat_id, user_id=ann,
                only_if_banned=True)["ok"]  # fmt: skip
    assert managed.status(ann) == "member"


def test_administrators_include_other_bots_only_when_asked(managed):
    assert "By default, bots other than the current bot are omitted" in described(
        "getChatAdministrators"
    )
    managed.sandbox.create_bot(token="7999000002:helper", username="helper_two_bot")
    managed.sandbox.add_bot("helper_two_bot", managed.chat_id, status="administrator")
    default = call(managed, "getChatAdministrators", chat_id=managed.chat_id)["result"]
    every = call(managed, "getChatAdministrators", chat_id=managed.chat_id, return_bots=True)
    names = {m["user"].get("username") for m in every["result"]}
    assert "helper_two_bot" in names
    assert "helper_two_bot" not in {m["user"].get("username") for m in default}
    assert {m["status"] for m in every["result"]} >= {"creator", "administrator"}
