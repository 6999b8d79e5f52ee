"""Setting protection up and looking after it: /protect, /status, /settings, /unprotect (G3, G4)."""

from __future__ import annotations

import pytest

from apps.chats.models import Group, GroupChannelLink
from apps.guard import texts
from apps.guard.models import GroupProtection

pytestmark = pytest.mark.django_db


def replies(world) -> list[str]:
    return [call["params"]["text"] for call in world.calls("sendMessage", world.group)]


def test_protect_reports_each_check_and_records_owner_group_and_channel(world):
    # when the group's owner protects it with the channel
    world.say(world.owner, "/protect @news")

    # then every check passed and protection is confirmed
    reply = replies(world)[-1]
    assert "✅ you are an admin of this group" in reply
    assert "✅ I may delete messages and restrict members here" in reply
    assert "✅ I am an admin of @news" in reply
    assert texts.PROTECT_DONE.format(channels="@news") in reply
    group = Group.objects.get(bot=world.bot, chat_id=world.group)
    protection = GroupProtection.objects.get(group=group)
    assert group.enabled and protection.enabled and protection.paused_at is None
    assert group.owner is not None and group.owner.telegram_id == world.owner
    assert [link.channel.chat_id for link in GroupChannelLink.objects.filter(group=group)] == [
        world.channel
    ]


def test_a_non_admin_running_protect_is_refused_politely_and_nothing_is_recorded(world):
    # given a plain member
    member = world.user("Max", subscribed=True)

    # when they try to protect the group
    world.say(member, "/protect @news")

    # then a short refusal, no record
    assert replies(world) == [texts.ADMINS_ONLY.format(command="protect")]
    assert not Group.objects.filter(chat_id=world.group).exists()


def test_protect_says_the_bot_must_be_admin_in_the_channel(world, sandbox):
    # given a channel where the bot is only... absent
    other = sandbox.create_chat("channel", title="Other", username="other", owner_id=world.owner)

    # when the owner protects the group with it
    world.say(world.owner, "/protect @other")

    # then the reply says exactly what is missing and nothing is recorded
    reply = replies(world)[-1]
    assert "❌ I am an admin of @other — please add me to the channel as an admin" in reply
    assert texts.PROTECT_FAILED in reply
    assert not Group.objects.filter(chat_id=world.group).exists()
    assert other["id"] != world.channel


def test_protect_names_the_group_rights_the_bot_lacks(world, sandbox):
    # given the bot is an admin of the group that may not restrict members
    sandbox.add_bot(world.bot.username, world.group, status="administrator",
                    can_delete_messages=True, can_restrict_members=False)  # fmt: skip
    world.deliver()

    # when the owner protects the group
    world.say(world.owner, "/protect @news")

    # then the reply names the missing right
    reply = replies(world)[-1]
    assert "❌ I may delete messages and restrict members here — please give me: ban users" in reply
    assert not Group.objects.filter(chat_id=world.group).exists()


def test_an_anonymous_admin_may_protect_and_the_creator_becomes_owner(world):
    # when an anonymous admin (posting as the group) runs /protect
    world.sandbox.message(None, world.group, "/protect @news", sender_chat_id=world.group)
    world.deliver()

    # then protection is active, owned by the group's creator
    assert texts.PROTECT_DONE.format(channels="@news") in replies(world)[-1]
    group = Group.objects.get(chat_id=world.group)
    assert group.owner is not None and group.owner.telegram_id == world.owner


def test_status_shows_channels_state_and_counts(protected):
    # given one verified and one restricted member
    protected.say(protected.user("Sub", subscribed=True), "hello")
    protected.say(protected.user("Nosub", subscribed=False), "hello")

    # when the owner asks for the status
    protected.say(protected.owner, "/status")

    # then
    assert replies(protected)[-1] == texts.STATUS.format(
        state="active", channels="@news", verified=1, restricted=1
    )


def test_status_and_settings_are_refused_to_members(protected):
    member = protected.user("Max", subscribed=True)

    protected.say(member, "/status")
    protected.say(member, "/settings mode mute")

    assert replies(protected)[-2:] == [
        texts.ADMINS_ONLY.format(command="status"),
        texts.ADMINS_ONLY.format(command="settings"),
    ]


def test_settings_mode_mute_keeps_the_message_and_mutes_the_sender(protected):
    # given the group chose to mute only, with its own warning
    protected.say(protected.owner, "/settings mode mute")
    protected.say(protected.owner, "/settings warning Hey {name}, join {channels} first!")
    assert replies(protected)[-1] == texts.SETTINGS_SAVED

    # when a non-subscriber writes
    nosub = protected.user("Nick", subscribed=False)
    message_id = protected.say(nosub, "hello")

    # then the message stays, the sender is muted and warned with the group's text
    assert protected.present(message_id)
    assert protected.status(nosub) == "restricted"
    assert protected.warnings()[-1]["params"]["text"] == "Hey Nick, join @news first!"


def test_unprotect_switches_protection_off(protected):
    protected.say(protected.owner, "/unprotect")
    nosub = protected.user("Nick", subscribed=False)
    message_id = protected.say(nosub, "hello")

    assert replies(protected)[-1] == texts.UNPROTECT_ALL
    assert protected.present(message_id)
    assert protected.status(nosub) == "member"
