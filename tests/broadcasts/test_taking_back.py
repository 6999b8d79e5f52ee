"""Taking a broadcast back (SPEC B5) and the BAN button (SPEC B7)."""

from __future__ import annotations

import pytest
import requests

from apps.broadcasts import texts
from apps.broadcasts.models import Broadcast, Delivery, LiveBan
from tests.broadcasts.conftest import World, delete_everywhere, delivery, run

pytestmark = pytest.mark.django_db

D = Delivery.Deletion
OTHER_BOT = "7199999999:sandbox-token-other-admin-bot"


def message_of(world: World, broadcast: Broadcast, group) -> int:
    return int(delivery(broadcast, group).message_id or 0)


def present(world: World, chat_id: int, message_id: int) -> bool:
    return any(m["message_id"] == message_id for m in world.sandbox.messages(chat_id))


def test_delete_everywhere_records_each_outcome_too_old_included(world: World):
    sb = world.sandbox
    cats, dogs, birds = world.groups
    basic = world.add_group("Basic", kind="group")
    gone, refused = world.add_group("Gone"), world.add_group("Refused")

    # given a broadcast sent two days ago to one group …
    old = run(world.broadcast(groups=[cats]))
    sb.advance_clock(48 * 3600 + 60)
    # … and one sent now to the others
    recent = run(world.broadcast(groups=[dogs, birds, basic, gone, refused]))
    assert {row.status for row in recent.deliveries.all()} == {Delivery.Status.SENT}

    # and since then: another admin bot removed it in one group, the bot was removed from
    # another, one became a supergroup, and Telegram refuses two deletions its own ways
    sb.create_bot(OTHER_BOT, "other_admin_bot")
    sb.add_bot("other_admin_bot", birds.chat_id, status="administrator", can_delete_messages=True)
    requests.post(sb.api_url(OTHER_BOT, "deleteMessage"), timeout=5, json={
        "chat_id": birds.chat_id, "message_id": message_of(world, recent, birds)})  # fmt: skip
    sb.set_member(gone.chat_id, world.bot.username, "kicked")
    sb.migrate(basic.chat_id)
    world.deliver()  # the migration's service message moves the stored group
    sb.fault("deleteMessage", error_code=400, description="Bad Request: message can't be deleted",
             chat_id=dogs.chat_id)  # fmt: skip
    sb.fault("deleteMessage", error_code=400, description="Bad Request: CHAT_ADMIN_REQUIRED",
             chat_id=refused.chat_id)  # fmt: skip

    # when both are deleted everywhere
    assert delete_everywhere(old) == {D.TOO_OLD: 1}
    outcomes = delete_everywhere(recent)

    # then every message has its outcome, in Telegram's terms where it gave them
    assert {row.group_id: row.deletion for row in recent.deliveries.all()} == {
        dogs.pk: D.WRONG_BOT,
        birds.pk: D.ALREADY_DELETED,
        basic.pk: D.CHAT_UNREACHABLE,
        gone.pk: D.CHAT_UNREACHABLE,
        refused.pk: D.NOT_ENOUGH_RIGHTS,
    }
    assert sum(outcomes.values()) == 5
    assert delivery(old, cats).deletion_description == (
        "Bad Request: message can't be deleted for everyone"
    )
    assert "migrated" in delivery(recent, basic).deletion_description
    # no call went to the migrated group (a message id there would name another message)
    assert all(
        int(c["params"]["chat_id"]) != basic.chat_id
        for c in sb.calls(bot=world.bot.username, method="deleteMessage")
    )
    for broadcast in (old, recent):
        broadcast.refresh_from_db()
        assert broadcast.deletion == Broadcast.Deletion.DELETED


def test_delete_everywhere_removes_the_messages_and_stops_what_was_not_sent(world: World):
    cats = world.groups[0]
    sent = run(world.broadcast(groups=[cats]))
    message_id = message_of(world, sent, cats)
    queued = world.broadcast()

    assert delete_everywhere(sent) == {D.DELETED: 1}
    assert not present(world, cats.chat_id, message_id)

    delete_everywhere(queued)
    queued.refresh_from_db()
    assert (queued.status, queued.deletion) == (Broadcast.Status.STOPPED, "deleted")
    assert len(world.sends()) == 1  # the queued one never went out


def press(world: World, user_id: int, chat_id: int, message_id: int) -> dict:
    answer = world.sandbox.press(user_id, chat_id, message_id)
    world.deliver()
    (reply,) = [
        c for c in world.sandbox.calls(method="answerCallbackQuery")
        if c["params"]["callback_query_id"] == answer["callback_query_id"]
    ]  # fmt: skip
    return reply


def test_ban_by_an_admin_removes_the_message_and_the_live_from_that_group(world: World):
    sb = world.sandbox
    cats, dogs, _ = world.groups
    world.skip_pending()
    broadcast = run(world.broadcast())
    message_id = message_of(world, broadcast, cats)

    # when a member who is no admin presses BAN: an alert, nothing else
    member = sb.create_user("Max")["id"]
    sb.set_member(cats.chat_id, member, "member")
    world.skip_pending()
    reply = press(world, member, cats.chat_id, message_id)
    assert str(reply["params"]["show_alert"]).lower() == "true"
    assert reply["params"]["text"] == texts.BAN_ADMINS_ONLY
    assert present(world, cats.chat_id, message_id)
    assert not LiveBan.objects.exists()

    # when the group's owner presses it: banned there, the message gone, a short answer
    reply = press(world, world.owner.telegram_id, cats.chat_id, message_id)
    assert reply["params"]["text"] == texts.BANNED.format(live=world.live)
    assert not present(world, cats.chat_id, message_id)
    ban = LiveBan.objects.get()
    assert (ban.group, ban.live, ban.banned_by) == (cats, world.live, world.owner.telegram_id)
    assert delivery(broadcast, cats).deletion == D.DELETED

    # then the next broadcast of that live skips the group, and undoing the ban lets it back
    again = run(world.broadcast())
    assert delivery(again, cats).reason == "banned"
    assert delivery(again, dogs).status == Delivery.Status.SENT
    ban.delete()
    assert delivery(run(world.broadcast()), cats).status == Delivery.Status.SENT
