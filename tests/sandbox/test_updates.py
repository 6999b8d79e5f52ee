"""Which bot gets which update: privacy mode, chat_member opt-in, my_chat_member, join requests,
channels, anonymous admins, long polling."""

from __future__ import annotations

import threading
import time
from typing import Any

import requests

from sandbox.client import Sandbox
from tests.sandbox.conftest import OTHER_TOKEN, TOKEN


def get_updates(sb: Sandbox, token: str = TOKEN, **params: Any) -> list[dict[str, Any]]:
    answer = requests.post(sb.api_url(token, "getUpdates"), json=params, timeout=10).json()
    assert answer["ok"], answer
    return answer["result"]


def drain(sb: Sandbox, token: str = TOKEN) -> int:
    updates = get_updates(sb, token)
    last = updates[-1]["update_id"] if updates else 0
    get_updates(sb, token, offset=last + 1)
    return last


def test_privacy_mode_shows_a_member_bot_only_commands_and_replies(sb: Sandbox, world: Any) -> None:
    group, bob = world["group"]["id"], world["bob"]["id"]
    sb.create_bot(OTHER_TOKEN, "quiet_bot")
    sb.add_bot("quiet_bot", group, status="member")
    drain(sb, OTHER_TOKEN)
    sb.message(bob, group, "just chatting")
    command = sb.message(bob, group, "/help")
    sb.message(bob, group, "/help@guard_bot")
    addressed = sb.message(bob, group, "/help@quiet_bot")
    own = requests.get(
        sb.api_url(OTHER_TOKEN, "sendMessage"), params={"chat_id": group, "text": "hi"}, timeout=5
    ).json()["result"]
    reply = sb.message(bob, group, "answer", reply_to=own["message_id"])
    seen = [u["message"]["message_id"] for u in get_updates(sb, OTHER_TOKEN)]
    assert seen == [command["message_id"], addressed["message_id"], reply["message_id"]]
    admin_seen = [u["message"].get("text") for u in get_updates(sb) if "message" in u]
    assert "just chatting" in admin_seen and "/help@quiet_bot" in admin_seen


def test_commands_carry_a_bot_command_entity(sb: Sandbox, world: Any) -> None:
    message = sb.message(world["bob"]["id"], world["group"]["id"], "/protect@guard_bot @news")
    assert message["message"]["entities"][0] == {"offset": 0, "length": 18, "type": "bot_command"}


def test_chat_member_updates_need_admin_and_opt_in(sb: Sandbox, world: Any) -> None:
    group = world["group"]["id"]
    carol = sb.create_user("Carol")["id"]
    last = drain(sb)
    sb.join(carol, group)
    kinds = [next(k for k in u if k != "update_id") for u in get_updates(sb, offset=last + 1)]
    assert kinds == ["message"]  # new_chat_members only: chat_member was not asked for
    last = drain(sb)
    get_updates(sb, offset=last + 1, allowed_updates=["message", "chat_member", "my_chat_member"])
    dave = sb.create_user("Dave")["id"]
    produced = sb.join(dave, group)
    updates = get_updates(sb, offset=last + 1)
    assert [u["update_id"] for u in updates] == produced["update_ids"]
    message, member = updates
    assert message["message"]["new_chat_members"][0]["id"] == dave
    change = member["chat_member"]
    assert (change["old_chat_member"]["status"], change["new_chat_member"]["status"]) == (
        "left",
        "member",
    )


def test_my_chat_member_follows_the_bots_own_status(sb: Sandbox, world: Any) -> None:
    group, alice = world["group"]["id"], world["alice"]["id"]
    last = drain(sb)
    sb.set_member(group, "guard_bot", "member", by=alice)
    sb.set_member(group, "guard_bot", "administrator", by=alice, can_restrict_members=False)
    sb.set_member(group, "guard_bot", "kicked", by=alice)
    changes = [u["my_chat_member"] for u in get_updates(sb, offset=last + 1)]
    assert [(c["old_chat_member"]["status"], c["new_chat_member"]["status"]) for c in changes] == [
        ("administrator", "member"),
        ("member", "administrator"),
        ("administrator", "kicked"),
    ]
    assert changes[1]["new_chat_member"]["can_restrict_members"] is False
    assert {c["from"]["id"] for c in changes} == {alice}


def test_blocking_and_restarting_a_bot(sb: Sandbox, world: Any) -> None:
    bob = world["bob"]["id"]
    last = drain(sb)
    start = sb.start(bob, "guard_bot", payload="ref123")
    sb.block(bob, "guard_bot")
    sb.start(bob, "guard_bot")
    updates = get_updates(sb, offset=last + 1)
    assert updates[0]["message"]["text"] == "/start ref123"
    assert updates[0]["message"]["message_id"] == start["message_id"]
    statuses = [
        u["my_chat_member"]["new_chat_member"]["status"] for u in updates if "my_chat_member" in u
    ]
    assert statuses == ["kicked", "member"]


def test_join_requests_reach_admin_bots_with_invite_rights(sb: Sandbox, world: Any) -> None:
    chat = sb.create_chat(
        "supergroup", title="Gated", join_by_request=True, owner_id=world["alice"]["id"]
    )["id"]
    sb.add_bot("guard_bot", chat, status="administrator", can_invite_users=False)
    last = drain(sb)
    assert sb.join(world["bob"]["id"], chat)["update_ids"] == []
    sb.set_member(chat, "guard_bot", "administrator", by=world["alice"]["id"])
    last = drain(sb)
    produced = sb.join(sb.create_user("Carol")["id"], chat)
    request = get_updates(sb, offset=last + 1)[0]["chat_join_request"]
    assert produced["status"] == "requested"
    assert request["user_chat_id"] == request["from"]["id"]


def test_channel_posts_leaves_and_automatic_forwards(sb: Sandbox, world: Any) -> None:
    alice, bob, group = world["alice"]["id"], world["bob"]["id"], world["group"]["id"]
    channel = sb.create_chat(
        "channel", title="News", username="news", owner_id=alice, linked_chat_id=group
    )["id"]
    sb.add_bot("guard_bot", channel, status="administrator")
    sb.set_member(channel, bob, "member")
    last = drain(sb)
    get_updates(sb, offset=last + 1, allowed_updates=["message", "channel_post", "chat_member"])
    post = sb.message(alice, channel, "big news")
    left = sb.leave(bob, channel)
    updates = get_updates(sb, offset=last + 1)
    kinds = [next(k for k in u if k != "update_id") for u in updates]
    assert kinds == ["channel_post", "message", "chat_member"]
    assert updates[0]["channel_post"]["sender_chat"]["id"] == channel
    forward = updates[1]["message"]
    assert forward["is_automatic_forward"] is True
    assert forward["forward_origin"]["message_id"] == post["message_id"]
    assert updates[2]["update_id"] == left["update_ids"][0]
    assert updates[2]["chat_member"]["new_chat_member"]["status"] == "left"


def test_anonymous_admins_post_as_the_group(sb: Sandbox, world: Any) -> None:
    group = world["group"]["id"]
    message = sb.message(None, group, "from the admins", sender_chat_id=group)["message"]
    assert message["sender_chat"]["id"] == group
    assert message["from"]["username"] == "GroupAnonymousBot"


def test_long_polling_returns_as_soon_as_an_update_arrives(sb: Sandbox, world: Any) -> None:
    last = drain(sb)
    timer = threading.Timer(0.3, lambda: sb.message(world["bob"]["id"], world["group"]["id"], "hi"))
    timer.start()
    started = time.monotonic()
    updates = get_updates(sb, offset=last + 1, timeout=5)
    timer.join()
    assert [u["message"]["text"] for u in updates] == ["hi"]
    assert 0.2 < time.monotonic() - started < 2


def test_negative_offset_and_limit(sb: Sandbox, world: Any) -> None:
    for text in ("a", "b", "c"):
        sb.message(world["bob"]["id"], world["group"]["id"], text)
    assert [u["message"]["text"] for u in get_updates(sb, offset=-2)] == ["b", "c"]
    assert [u["message"]["text"] for u in get_updates(sb, limit=1)] == ["b"]
