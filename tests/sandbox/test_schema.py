"""The validator the `sb` fixture applies to everything the sandbox emits: it knows the spec,
accepts real Telegram payloads, and catches an incomplete object."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sandbox.client import Sandbox
from tests.data import UPDATES_DIR
from tests.sandbox.schema import problems_of


@pytest.mark.parametrize("path", sorted(UPDATES_DIR.glob("*.json")), ids=lambda p: p.stem)
def test_real_telegram_updates_pass_the_validator(path: Path) -> None:
    problems = problems_of(json.loads(path.read_text()), ["Update"])
    # Older captures predate fields Bot API 10.1 made required on restricted members.
    newer = ("can_react_to_messages", "can_edit_tag")
    assert [p for p in problems if not any(field in p for field in newer)] == []


def test_a_restricted_member_without_its_permissions_is_caught() -> None:
    member = {
        "user": {"id": 1, "is_bot": False, "first_name": "A"},
        "status": "restricted",
        "is_member": True,
        "until_date": 0,
    }
    problems = problems_of(member, ["ChatMember"])
    assert problems and "can_send_messages" in problems[0]


def test_a_wrongly_typed_field_is_caught() -> None:
    message = {"message_id": "1", "date": 0, "chat": {"id": 1, "type": "private"}}
    assert problems_of(message, ["Message"]) == ["$.message_id: not a Integer: '1'"]


def test_sandbox_updates_have_the_shape_of_real_ones(sb: Sandbox, world: dict[str, Any]) -> None:
    real = json.loads((UPDATES_DIR / "message_group_3.json").read_text())["message"]
    ours = sb.message(world["bob"]["id"], world["group"]["id"], "/start")["message"]
    assert set(real) == set(ours)
    assert ours["entities"] == real["entities"]
    assert set(ours["from"]) <= set(real["from"]) | {"last_name", "is_premium"}
    assert set(ours["chat"]) <= {"id", "title", "type", "username", "is_forum"}
