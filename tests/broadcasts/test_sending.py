"""Sending a broadcast (SPEC B1-B4, B6): what each group gets, what is skipped and why, the
spacing per chat, failures counted across broadcasts, a migrated group followed once."""

from __future__ import annotations

import itertools
import re

import pytest

from apps.broadcasts import texts
from apps.broadcasts.models import Broadcast, Delivery, GroupBroadcasting, LiveBan
from apps.broadcasts.services import owners
from apps.chats.models import Group, UnreachableChat
from tests.broadcasts.conftest import World, delivery, run, statuses

pytestmark = pytest.mark.django_db

SENT, SKIPPED, FAILED = Delivery.Status.SENT, Delivery.Status.SKIPPED, Delivery.Status.FAILED


def buttons(call: dict) -> list[dict]:
    return [button for row in call["params"]["reply_markup"]["inline_keyboard"] for button in row]


def test_a_photo_with_join_live_and_ban_reaches_each_group_once_with_its_own_debug_code(
    world: World,
):
    # given three groups, one of which allows no final message
    cats, dogs, birds = world.groups
    GroupBroadcasting.objects.create(group=birds, final_message_allowed=False)

    # when a photo broadcast of the live entry goes out
    broadcast = run(world.broadcast(photo="https://example.com/olga.jpg"))

    # then the two others got one photo each: caption, debug code, JOIN LIVE and BAN
    assert broadcast.status == Broadcast.Status.DONE
    calls = world.sends(method="sendPhoto")
    assert sorted(int(c["params"]["chat_id"]) for c in calls) == sorted([cats.chat_id,
                                                                        dogs.chat_id])  # fmt: skip
    codes = set()
    for call in calls:
        caption = call["params"]["caption"]
        code = re.fullmatch(r"We are live!\n\n(DBG:[0-9A-Z]{6})", caption)
        assert code, caption
        codes.add(code[1])
        assert buttons(call) == [
            {"text": texts.JOIN_LIVE, "url": world.live.url},
            {"text": texts.BAN, "callback_data": f"bb:{world.live.pk}"},
        ]
    # and each delivery keeps its chat, message id, code and times; birds is skipped with why
    rows = {row.group_id: row for row in broadcast.deliveries.all()}
    assert {rows[g.pk].debug_code for g in (cats, dogs)} == codes
    for call in calls:
        row = next(r for r in rows.values() if r.chat_id == int(call["params"]["chat_id"]))
        assert (row.status, row.message_id) == (SENT, call["response"]["result"]["message_id"])
        assert row.claimed_at and row.finished_at
    assert (rows[birds.pk].status, rows[birds.pk].reason) == (SKIPPED, "final_message_allowed_off")
    assert world.sends(birds.chat_id, "sendPhoto") == []


def test_a_text_broadcast_to_chosen_groups_has_only_join_live(world: World):
    dogs = world.groups[1]
    broadcast = run(world.broadcast(text="Join us", ban_button=False, live=None,
                                    join_url="https://twitch.tv/olga", groups=[dogs]))  # fmt: skip
    (call,) = world.sends()
    assert int(call["params"]["chat_id"]) == dogs.chat_id
    assert call["params"]["text"].startswith("Join us\n\nDBG:")
    assert buttons(call) == [{"text": texts.JOIN_LIVE, "url": "https://twitch.tv/olga"}]
    assert statuses(broadcast) == {dogs.pk: SENT}


def test_rerunning_a_broadcast_sends_nothing_twice(world: World):
    broadcast = run(world.broadcast())
    Broadcast.objects.filter(pk=broadcast.pk).update(status=Broadcast.Status.SENDING)
    run(broadcast)
    assert len(world.sends()) == 3
    assert broadcast.deliveries.count() == 3


def test_bulk_messages_to_a_group_are_three_seconds_apart(world: World, settings):
    # given the real spacing, and two broadcasts for the same two groups, one after the other
    settings.TELEGRAM_GROUP_SPACING_MS = 3000
    cats, dogs, _ = world.groups
    first = world.broadcast(groups=[cats, dogs])
    second = world.broadcast(groups=[cats, dogs], text="Still live!")

    # when both are sent
    run(first)
    run(second)

    # then each group got two messages at least 3 s apart (the sandbox's clock), and no 429
    for group in (cats, dogs):
        times = [call["time"] for call in world.sends(group.chat_id)]
        assert len(times) == 2
        assert times[1] - times[0] >= 3.0 - 0.005, times
    assert all(c["status"] == 200 for c in world.sandbox.calls(method="sendMessage"))


def test_three_failures_in_a_row_deactivate_a_group_and_a_success_resets_the_count(
    world: World,
):
    # given a group where the bot may not post
    cats = world.groups[0]
    only_cats = {"groups": [cats]}

    def mute_the_bot(muted: bool) -> None:
        if muted:
            world.sandbox.set_member(cats.chat_id, world.bot.username, "restricted",
                                     can_send_messages=False)  # fmt: skip
        else:
            world.sandbox.set_member(cats.chat_id, world.bot.username, "administrator",
                                     can_delete_messages=True)  # fmt: skip

    def failures() -> int:
        return GroupBroadcasting.objects.get(group=cats).consecutive_failures

    mute_the_bot(True)
    run(world.broadcast(**only_cats))
    run(world.broadcast(**only_cats))
    assert failures() == 2

    # when one broadcast gets through, the count starts again
    mute_the_bot(False)
    assert statuses(run(world.broadcast(**only_cats))) == {cats.pk: SENT}
    assert failures() == 0

    # and three failures in a row deactivate the group and tell its owner
    mute_the_bot(True)
    for _ in range(3):
        failed = run(world.broadcast(**only_cats))
        assert delivery(failed, cats).reason == "not_enough_rights"
    state = GroupBroadcasting.objects.get(group=cats)
    assert (state.consecutive_failures, state.deactivated_at is not None) == (3, True)
    assert "not enough rights" in state.deactivation_reason
    assert owners.do_tell_owner_deactivated(cats.pk) is True
    assert owners.do_tell_owner_deactivated(cats.pk) is False  # once per deactivation
    (notice,) = world.sends(world.owner.telegram_id)
    assert "stopped sending broadcasts to «Cats»" in notice["params"]["text"]

    # and the next broadcast skips it, saying why
    skipped = run(world.broadcast(**only_cats))
    assert (delivery(skipped, cats).status, delivery(skipped, cats).reason) == (
        SKIPPED,
        "deactivated",
    )


def test_a_group_that_removed_the_bot_fails_once_and_is_marked_unreachable(world: World):
    cats, dogs, birds = world.groups
    world.sandbox.set_member(cats.chat_id, world.bot.username, "kicked")

    first = run(world.broadcast())
    second = run(world.broadcast())

    assert (delivery(first, cats).status, delivery(first, cats).reason) == (FAILED, "kicked")
    assert delivery(first, cats).description == "Forbidden: bot was kicked from the supergroup chat"
    assert UnreachableChat.objects.filter(bot=world.bot, chat_id=cats.chat_id).exists()
    assert delivery(second, cats).reason == "unreachable"  # skipped: no call made
    assert len(world.sandbox.calls(method="sendMessage", chat_id=cats.chat_id)) == 1
    assert {delivery(second, g).status for g in (dogs, birds)} == {SENT}


def test_a_migrated_group_is_followed_once(world: World):
    # given a basic group that became a supergroup, which GMBot has not heard of yet
    old = world.add_group("Basic", kind="group")
    new_id = world.sandbox.migrate(old.chat_id)["chat_id"]

    # when a broadcast goes there
    broadcast = run(world.broadcast(groups=[old]))

    # then Telegram's answer moved the group, the call was repeated once, the delivery says where
    calls = world.sandbox.calls(method="sendMessage")
    assert [(int(c["params"]["chat_id"]), c["status"]) for c in calls] == [
        (old.chat_id, 400),
        (new_id, 200),
    ]
    assert Group.objects.get(pk=old.pk).chat_id == new_id
    assert (delivery(broadcast, old).status, delivery(broadcast, old).chat_id) == (SENT, new_id)


def test_a_banned_live_is_skipped_where_it_was_banned(world: World):
    cats, dogs, birds = world.groups
    LiveBan.objects.create(group=cats, live=world.live, banned_by=1)
    broadcast = run(world.broadcast())
    assert delivery(broadcast, cats).reason == "banned"
    assert [int(c["params"]["chat_id"]) for c in world.sends()] == [dogs.chat_id, birds.chat_id]


def test_debug_codes_are_unique_and_lead_back_to_their_delivery():
    from apps.broadcasts.services.codes import debug_code, delivery_id

    codes = [debug_code(pk) for pk in itertools.chain(range(1, 5000), [2**31 - 1])]
    assert len(set(codes)) == len(codes)
    assert all(delivery_id(code) == pk for pk, code in zip(range(1, 5000), codes, strict=False))
