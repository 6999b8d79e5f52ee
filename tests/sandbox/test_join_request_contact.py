"""A join request's user_chat_id lets the bot write to a requester who never started it: for 5
minutes, until the request is processed, as api.json's ChatJoinRequest describes."""

from __future__ import annotations

from typing import Any

import telebot

from sandbox.client import Sandbox
from tests.sandbox.schema import spec
from tests.sandbox.test_telebot_methods import refusal

CANT_INITIATE = (403, "Forbidden: bot can't initiate conversation with a user")


def _gated(sb: Sandbox, world: dict[str, Any]) -> int:
    chat = sb.create_chat(
        "supergroup", title="Gated", join_by_request=True, owner_id=world["alice"]["id"]
    )["id"]
    sb.add_bot("guard_bot", chat, status="administrator")
    return chat


def test_the_spec_gives_user_chat_id_five_minutes_until_the_request_is_processed() -> None:
    (field,) = [
        f for f in spec()["types"]["ChatJoinRequest"]["fields"] if f["name"] == "user_chat_id"
    ]
    assert (
        "for 5 minutes to send messages until the join request is processed" in field["description"]
    )


def test_requester_can_be_messaged_within_five_minutes_of_the_request(
    tb: telebot.TeleBot, sb: Sandbox, world: dict[str, Any]
) -> None:
    chat = _gated(sb, world)
    carol = sb.create_user("Carol")["id"]
    assert refusal(lambda: tb.send_message(carol, "hello"))[:2] == CANT_INITIATE
    sb.join(carol, chat)
    (request,) = [u.chat_join_request for u in tb.get_updates() if u.chat_join_request]
    assert request.user_chat_id == carol
    assert tb.send_message(request.user_chat_id, "join our channel first").chat.id == carol
    sb.advance_clock(301)
    assert refusal(lambda: tb.send_message(carol, "still there?"))[:2] == CANT_INITIATE


def test_requester_cannot_be_messaged_once_the_request_is_processed(
    tb: telebot.TeleBot, sb: Sandbox, world: dict[str, Any]
) -> None:
    chat = _gated(sb, world)
    carol = sb.create_user("Carol")["id"]
    sb.join(carol, chat)
    assert tb.decline_chat_join_request(chat, carol) is True
    assert refusal(lambda: tb.send_message(carol, "hello"))[:2] == CANT_INITIATE


def test_a_bot_without_invite_rights_cannot_use_the_request(
    tb: telebot.TeleBot, sb: Sandbox, world: dict[str, Any]
) -> None:
    chat = sb.create_chat(
        "supergroup", title="Gated", join_by_request=True, owner_id=world["alice"]["id"]
    )["id"]
    sb.add_bot("guard_bot", chat, status="member")
    carol = sb.create_user("Carol")["id"]
    sb.join(carol, chat)
    assert refusal(lambda: tb.send_message(carol, "hello"))[:2] == CANT_INITIATE
