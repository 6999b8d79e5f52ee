"""GET /api/groups (SPEC A2): an owner's groups, filtered, a page at a time."""

from __future__ import annotations

import pytest
from django.utils import timezone

from apps.chats.models import Group
from tests.api.conftest import call, ids, protected_group
from tests.factories import GroupFactory

pytestmark = pytest.mark.django_db


def test_an_owner_lists_the_groups_it_owns_or_its_bots_manage_by_ascending_id(client, tenants):
    # given owners A and B, and a group of A's on B's bot
    a, b = tenants

    # when each lists its groups
    # then each gets its own, and both get the shared one, in the order of their ids
    assert ids(call(client, a.key, "/api/groups")) == sorted(group.pk for group in a.groups)
    assert ids(call(client, b.key, "/api/groups")) == sorted(group.pk for group in b.groups)


def test_a_group_is_shown_with_its_bot_owner_protection_and_channels(client, tenants):
    a, _ = tenants
    group = a.groups[0]
    channel = group.channel_links.get().channel

    answer = call(client, a.key, "/api/groups", page_size=1)

    assert answer.json()["results"][0] == {
        "id": group.pk,
        "chat_id": group.chat_id,
        "title": "a protected",
        "bot": {"id": a.bot.telegram_id, "username": "tenant_a_bot"},
        "owner": a.owner.telegram_id,
        "enabled": True,
        "protected": True,
        "channels": [
            {"chat_id": channel.chat_id, "title": channel.title, "username": channel.username}
        ],
        "created_at": group.created_at.isoformat().replace("+00:00", "Z"),
        "updated_at": group.updated_at.isoformat().replace("+00:00", "Z"),
    }


def test_a_staff_key_lists_every_group(client, tenants, make_key):
    assert ids(call(client, make_key(staff=True), "/api/groups")) == sorted(
        Group.objects.values_list("pk", flat=True)
    )


def test_protected_means_enabled_with_a_linked_channel_and_not_paused(client, tenants):
    # given A's groups: protected, disabled (with a channel), without channels, shared (on B's
    # bot, protected), and one that is paused
    a, _ = tenants
    paused = protected_group(a.bot, owner=a.owner, paused_at=timezone.now())
    protected, disabled, without_channels, shared = a.groups

    # when A filters on protection
    # then only enabled groups with a channel that are not paused count as protected
    assert ids(call(client, a.key, "/api/groups", protected="true")) == [protected.pk, shared.pk]
    assert ids(call(client, a.key, "/api/groups", protected="false")) == [
        disabled.pk, without_channels.pk, paused.pk
    ]  # fmt: skip
    answer = call(client, a.key, "/api/groups", protected="false")
    assert [group["protected"] for group in answer.json()["results"]] == [False, False, False]


def test_groups_filter_by_bot_and_enabled_together(client, tenants):
    a, _ = tenants
    protected, disabled, without_channels, _on_b_bot = a.groups

    assert ids(call(client, a.key, "/api/groups", bot=a.bot.telegram_id)) == [
        protected.pk, disabled.pk, without_channels.pk
    ]  # fmt: skip
    assert ids(call(client, a.key, "/api/groups", bot=a.bot.telegram_id, enabled="false")) == [
        disabled.pk
    ]


def test_pages_follow_each_other_without_repeating_or_skipping_a_group(client, tenants):
    # given A's four groups
    a, _ = tenants
    seen: list[int] = []

    # when A reads them two at a time, and a group is added after the first page
    answer = call(client, a.key, "/api/groups", page_size=2)
    seen += ids(answer)
    added = GroupFactory(bot=a.bot, owner=a.owner)
    while answer.json()["next"]:
        answer = client.get(answer.json()["next"], headers={"X-API-Key": a.key})
        seen += ids(answer)

    # then every group comes once, in id order, the new one last
    assert seen == [*sorted(group.pk for group in a.groups), added.pk]


def test_a_page_costs_the_same_queries_whatever_its_size(
    client, tenants, django_assert_num_queries
):
    a, _ = tenants
    for _ in range(20):
        protected_group(a.bot, owner=a.owner)

    # key, groups, their channels; the same for 2 groups as for 24
    with django_assert_num_queries(3):
        assert len(ids(call(client, a.key, "/api/groups", page_size=2))) == 2
    with django_assert_num_queries(3):
        assert len(ids(call(client, a.key, "/api/groups", page_size=100))) == 24


@pytest.mark.parametrize(
    ("params", "field", "code"),
    [
        ({"enabled": "yes"}, "enabled", "invalid"),
        ({"protected": "1"}, "protected", "invalid"),
        ({"bot": "1.0"}, "bot", "invalid"),
        ({"bot": "0"}, "bot", "min_value"),
        ({"page_size": "201"}, "page_size", "max_value"),
        ({"page_size": "two"}, "page_size", "invalid"),
        ({"enabeld": "true"}, "enabeld", "unknown"),
        ({"cursor": ""}, "cursor", "blank"),
    ],
)
def test_a_wrong_query_parameter_is_refused_naming_it_and_why(client, tenants, params, field, code):
    a, _ = tenants

    answer = call(client, a.key, "/api/groups", **params)

    assert answer.status_code == 400
    body = answer.json()
    assert body["code"] == "invalid"
    assert [(error["field"], error["code"]) for error in body["errors"]] == [(field, code)]
    assert body["message"].startswith(f"{field}: ")


def test_unknown_and_repeated_parameters_are_refused_together_with_wrong_values(client, tenants):
    a, _ = tenants

    answer = client.get(
        "/api/groups?protected=maybe&enabled=true&enabled=false&colour=red",
        headers={"X-API-Key": a.key},
    )

    assert answer.status_code == 400
    errors = {(error["field"], error["code"]) for error in answer.json()["errors"]}
    assert errors == {("protected", "invalid"), ("enabled", "repeated"), ("colour", "unknown")}
    unknown = next(error for error in answer.json()["errors"] if error["field"] == "colour")
    assert "bot, enabled, protected" in unknown["message"]


def test_another_owners_bot_and_a_missing_bot_answer_the_same_404(client, tenants, make_key):
    # given a bot of B's alone (no group of A's on it) and a bot id nobody has
    a, _ = tenants
    b_alone = tenants[1].bot
    b_alone.groups.filter(owner=a.owner).delete()

    # when A filters on each
    theirs = call(client, a.key, "/api/groups", bot=b_alone.telegram_id)
    missing = call(client, a.key, "/api/groups", bot=1)

    # then both are "no such bot among this key's", naming the parameter
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json()["errors"][0]["field"] == "bot"
    assert theirs.json()["errors"][0]["code"] == "not_found"
    assert (
        theirs.json()["message"].replace(str(b_alone.telegram_id), "1") == missing.json()["message"]
    )


@pytest.mark.parametrize("cursor", ["nonsense", "cD1hYmM=", "cD05OTk5OTk5OTk5OTk5OTk5OTk5OTk="])
def test_a_cursor_this_api_did_not_give_is_refused_naming_it(client, tenants, cursor):
    # "cD1hYmM=" is p=abc and the last one p=99999999999999999999: cursors with a position that
    # is no id
    a, _ = tenants

    answer = call(client, a.key, "/api/groups", cursor=cursor)

    assert answer.status_code == 404
    assert [(e["field"], e["code"]) for e in answer.json()["errors"]] == [("cursor", "not_found")]
