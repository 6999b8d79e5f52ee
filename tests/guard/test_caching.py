"""What the guard keeps in Redis to spare the database must never make it act on stale state.

Every message in a protected group reads the group's protection (cached) and refreshes the
member's row (at most every few minutes). Each test first lets a subscriber write, so the cache
is warm, then changes the group and checks that the very next message sees the change.
"""

from __future__ import annotations

import pytest
from django.test import override_settings

from apps.chats.models import GroupChannelLink, GroupMember
from apps.guard import cache
from apps.guard.models import GroupProtection, MemberState
from gmbot import redis as gmbot_redis
from tests.conftest import free_port

pytestmark = pytest.mark.django_db


def warm(protected) -> int:
    """A subscriber writes: the protection is now cached. Returns the subscriber."""
    sam = protected.user("Sam", subscribed=True)
    protected.say(sam, "hi")
    cached = cache.protection(protected.bot.pk, protected.group)
    assert cached is not cache.UNKNOWN and cached is not None
    return sam


def test_settings_unprotect_and_protect_take_effect_at_the_next_message(protected):
    warm(protected)

    protected.say(protected.owner, "/settings mode mute")
    nick = protected.user("Nick", subscribed=False)
    kept = protected.say(nick, "hello")
    assert protected.present(kept)
    assert protected.status(nick) == "restricted"

    protected.say(protected.owner, "/unprotect")
    nora = protected.user("Nora", subscribed=False)
    protected.say(nora, "hello")
    assert protected.status(nora) == "member"

    protected.say(protected.owner, "/protect @news")
    nina = protected.user("Nina", subscribed=False)
    protected.say(nina, "hello")
    assert protected.status(nina) == "restricted"


def test_a_change_made_in_the_admin_drops_the_cached_protection(protected):
    # given a warm cache, when staff remove the group's only channel link in the admin (ORM)
    warm(protected)
    GroupChannelLink.objects.filter(group__chat_id=protected.group).delete()

    # then the group no longer requires anything
    nick = protected.user("Nick", subscribed=False)
    message_id = protected.say(nick, "hello")
    assert protected.present(message_id)
    assert protected.status(nick) == "member"


def test_a_pause_stops_enforcement_though_the_protection_was_cached(protected):
    # given a warm cache, when the bot is demoted in the channel (it still sees the group's
    # messages: it is admin there)
    warm(protected)
    protected.sandbox.add_bot(protected.bot.username, protected.channel, status="member")
    protected.deliver()
    assert GroupProtection.objects.get(group__chat_id=protected.group).paused_at is not None

    # then a non-subscriber's message costs no call at all
    calls_before = len(protected.sandbox.calls(bot=protected.bot.username))
    nick = protected.user("Nick", subscribed=False)
    message_id = protected.say(nick, "hello")
    assert protected.present(message_id)
    assert len(protected.sandbox.calls(bot=protected.bot.username)) == calls_before


def test_an_active_member_row_is_refreshed_at_most_every_few_minutes_but_changes_always_land(
    protected,
):
    # given a subscriber who wrote once
    sam = warm(protected)
    row = GroupMember.objects.get(group__chat_id=protected.group, user_id=sam)
    state = MemberState.objects.get(group__chat_id=protected.group, user_id=sam)
    assert state.status == MemberState.Status.VERIFIED

    # when they write again at once, the row is not rewritten
    protected.say(sam, "again")
    assert GroupMember.objects.get(pk=row.pk).last_seen_at == row.last_seen_at

    # when they leave the channel, they are recorded as restricted at once
    protected.sandbox.leave(sam, protected.channel)
    protected.deliver()
    assert MemberState.objects.get(pk=state.pk).status == MemberState.Status.RESTRICTED

    # and once verified again, their next message is recorded as verified
    protected.sandbox.set_member(protected.channel, sam, "member")
    protected.deliver()
    warning = protected.warnings()[-1]
    protected.sandbox.press(sam, protected.group, warning["response"]["result"]["message_id"])
    protected.deliver()
    assert protected.status(sam) == "member"
    assert MemberState.objects.get(pk=state.pk).status == MemberState.Status.VERIFIED


def test_with_the_cache_down_the_protection_comes_from_the_database(protected, caplog):
    warm(protected)
    nick = protected.user("Nick", subscribed=False)

    # when nothing answers at the cache's address while Nick writes
    with override_settings(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0"):
        gmbot_redis.reset_connections()
        try:
            protected.say(nick, "hello")
        finally:
            gmbot_redis.reset_connections()

    # then the group's protection was read from the database, and enforced
    assert protected.status(nick) == "restricted"
    assert "Redis unavailable, a message's checks go to the database and Telegram" in caplog.text


def test_a_leave_reaches_the_groups_the_channel_protects_as_they_are_now(protected):
    # given a leave, which cached the channel's groups (only the first group)
    warm(protected)
    sue = protected.user("Sue", subscribed=True)
    protected.sandbox.leave(sue, protected.channel)
    protected.deliver()
    assert protected.status(sue) == "restricted"
    assert cache.channel_groups(protected.bot.pk, protected.channel) == [protected.group]

    # when a second group is protected by the channel and the first one's protection is removed
    second = protected.add_group("Fans 2")
    protected.say(protected.owner, "/protect @news", chat=second)
    protected.say(protected.owner, "/unprotect")
    sam = protected.user("Sam", subscribed=True)
    protected.sandbox.set_member(second, sam, "member")
    protected.skip_pending()

    # then the next leave mutes in the second group and not in the first
    protected.sandbox.leave(sam, protected.channel)
    protected.deliver()
    assert protected.status(sam, second) == "restricted"
    assert protected.status(sam) == "member"


def test_a_link_removed_in_the_admin_takes_its_group_off_the_channels_leaves(protected):
    # given the channel's groups cached by a leave
    warm(protected)
    sue = protected.user("Sue", subscribed=True)
    protected.sandbox.leave(sue, protected.channel)
    protected.deliver()

    # when staff remove the group's link in the admin (ORM), a leave no longer mutes there
    GroupChannelLink.objects.filter(group__chat_id=protected.group).delete()
    sam = protected.user("Sam", subscribed=True)
    protected.sandbox.leave(sam, protected.channel)
    protected.deliver()
    assert protected.status(sam) == "member"
    assert cache.channel_groups(protected.bot.pk, protected.channel) == []


def test_with_the_cache_down_a_leave_reads_its_groups_from_the_database(protected, caplog):
    warm(protected)
    sue = protected.user("Sue", subscribed=True)

    # when nothing answers at the cache's address while Sue leaves the channel
    protected.sandbox.leave(sue, protected.channel)
    with override_settings(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0"):
        gmbot_redis.reset_connections()
        try:
            protected.deliver()
        finally:
            gmbot_redis.reset_connections()

    # then the channel's groups came from the database, and she is muted there
    assert protected.status(sue) == "restricted"
    assert "Redis unavailable, a channel's groups are read from the database" in caplog.text
