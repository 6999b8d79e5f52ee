"""The broadcasts' endpoints (SPEC A2, B1, B5, B6, D8): validation that names the field, one
owner's key and another owner's broadcast, live entries created and updated."""

from __future__ import annotations

import json
from typing import Any

import pytest

from apps.broadcasts.models import Broadcast
from apps.live.models import LiveEntry
from tests.api.conftest import make_key  # noqa: F401 - the fixture, shared with the API tests
from tests.broadcasts.conftest import World
from tests.factories import BotFactory, GroupFactory, OwnerFactory

pytestmark = pytest.mark.django_db


def post(client: Any, key: str, path: str, body: dict[str, Any]) -> Any:
    return client.post(path, json.dumps(body), content_type="application/json",
                       headers={"X-API-Key": key})  # fmt: skip


def fields(answer: Any) -> dict[str, str]:
    return {error["field"]: error["code"] for error in answer.json()["errors"]}


def test_validation_errors_name_the_field(client, world: World, make_key):  # noqa: F811
    key = make_key(world.owner)
    other_bot = BotFactory(owner=world.owner, features=["guard"])
    foreign_group = GroupFactory(bot=other_bot, owner=world.owner)
    bot = world.bot.telegram_id

    cases = [
        ({"bot": bot, "text": "   ", "live": world.live.pk}, {"text": "invalid"}),
        ({"bot": bot, "text": "hi", "ban_button": True, "join_url": "https://x.org"},
         {"ban_button": "invalid"}),
        ({"bot": bot, "text": "hi"}, {"join_url": "invalid"}),
        ({"bot": bot, "text": "hi", "live": world.live.pk, "paid": "yes"}, {"paid": "invalid"}),
        ({"bot": bot, "text": "hi", "live": world.live.pk, "colour": "red"},
         {"colour": "unknown"}),
        ({"bot": bot, "text": "x" * 1025, "live": world.live.pk}, {"text": "max_length"}),
        ({"bot": other_bot.telegram_id, "text": "hi", "live": world.live.pk}, {"bot": "invalid"}),
        ({"bot": bot, "text": "hi", "live": world.live.pk, "groups": [foreign_group.pk]},
         {"groups": "invalid"}),
        ({"bot": bot, "text": "hi", "live": world.live.pk, "paid": True}, {"paid": "invalid"}),
    ]  # fmt: skip
    for body, expected in cases:
        answer = post(client, key, "/api/send_messages", body)
        assert answer.status_code == 400, (body, answer.json())
        assert fields(answer) == expected, (body, answer.json())
    assert not Broadcast.objects.exists()


def test_the_api_starts_a_broadcast_and_shows_its_progress(client, world: World, make_key):  # noqa: F811
    key = make_key(world.owner)
    answer = post(client, key, "/api/send_messages", {
        "bot": world.bot.telegram_id, "text": "Live!", "live": world.live.pk, "ban_button": True,
        "groups": [world.groups[0].pk, world.groups[1].pk]})  # fmt: skip
    assert answer.status_code == 201, answer.json()
    created = answer.json()
    assert (created["status"], created["progress"]["targets"]) == ("queued", 2)

    shown = client.get(f"/api/broadcasts/{created['id']}", headers={"X-API-Key": key}).json()
    assert shown["progress"]["pending"] == 2

    deleted = client.delete(f"/api/broadcasts/{created['id']}", headers={"X-API-Key": key})
    assert deleted.status_code == 202
    assert (deleted.json()["status"], deleted.json()["deletion"]) == ("stopped", "deleting")


def test_one_owners_key_cannot_read_start_or_delete_anothers_broadcast(
    client,
    world: World,
    make_key,  # noqa: F811
):
    theirs = world.broadcast()
    stranger = make_key(OwnerFactory())

    read = client.get(f"/api/broadcasts/{theirs.pk}", headers={"X-API-Key": stranger})
    delete = client.delete(f"/api/broadcasts/{theirs.pk}", headers={"X-API-Key": stranger})
    start = post(client, stranger, "/api/send_messages",
                 {"bot": world.bot.telegram_id, "text": "hi", "live": world.live.pk})  # fmt: skip

    assert (read.status_code, delete.status_code, start.status_code) == (404, 404, 404)
    assert fields(start) == {"bot": "not_found", "live": "not_found"}
    # a list of groups is looked up in one query, and the one not the key's is named
    own_bot = BotFactory(owner=world.owner, features=["broadcasts"])
    own_group = GroupFactory(bot=own_bot, owner=world.owner)
    owner_key = make_key(world.owner)
    mixed = post(client, owner_key, "/api/send_messages", {
        "bot": own_bot.telegram_id, "text": "hi", "join_url": "https://x.org",
        "groups": [own_group.pk, GroupFactory().pk]})  # fmt: skip
    assert (mixed.status_code, fields(mixed)) == (404, {"groups.1": "not_found"})
    theirs.refresh_from_db()
    assert (theirs.deletion, Broadcast.objects.count()) == ("", 1)


def test_a_live_entry_is_created_then_updated_by_platform_and_handle(
    client,
    world: World,
    make_key,  # noqa: F811
):
    key = make_key(world.owner)
    body = {"platform": "Twitch", "handle": "olga_tv", "url": "https://twitch.tv/olga_tv",
            "title": "Olga plays", "live_since": "2026-12-01T18:00:00Z",
            "live_now": True}  # fmt: skip

    created = post(client, key, "/api/live", body)
    ended = post(client, key, "/api/live", {**body, "live_now": False, "title": "Olga played"})

    assert (created.status_code, ended.status_code) == (201, 200)
    assert created.json()["id"] == ended.json()["id"]
    entry = LiveEntry.objects.get(handle="olga_tv")
    assert (entry.platform, entry.is_live, entry.title) == ("twitch", False, "Olga played")
    assert entry.owner == world.owner

    staff = make_key(staff=True)
    refused = post(client, staff, "/api/live", body)
    assert (refused.status_code, fields(refused)) == (400, {"owner": "invalid"})
    named = post(client, staff, "/api/live", {**body, "owner": world.owner.telegram_id})
    assert named.status_code == 200
