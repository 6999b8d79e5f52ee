"""Enforcement in a protected group: joins, messages, the verify button, channel leaves (G5-G9).

Each test acts in the sandbox's world, delivers the updates to the worker's entry point and
asserts what the sandbox then holds.
"""

from __future__ import annotations

import pytest
from django.test import override_settings

from apps.guard import keyboards, texts
from apps.telegram.errors import BadRequest
from gmbot import redis as gmbot_redis
from tests.conftest import free_port
from tests.guard.conftest import Guarded

pytestmark = pytest.mark.django_db


def buttons(call: dict) -> list[dict]:
    return [button for row in call["params"]["reply_markup"]["inline_keyboard"] for button in row]


def answers(world) -> list[dict]:
    return [call["params"] for call in world.calls("answerCallbackQuery")]


def test_a_non_subscriber_who_joins_is_muted_once_and_gets_one_warning_with_buttons(protected):
    # given a user who is not subscribed to the channel
    nick = int(protected.sandbox.create_user("Nick")["id"])

    # when they join (Telegram reports it twice: new_chat_members and chat_member)
    protected.sandbox.join(nick, protected.group)
    protected.deliver()

    # then they are muted, once, and warned once with a Join and a verify button
    assert protected.status(nick) == "restricted"
    assert not protected.can_write(nick)
    assert len(protected.calls("restrictChatMember")) == 1
    [warning] = protected.warnings()
    assert warning["params"]["text"] == texts.DEFAULT_WARNING.format(name="Nick", channels="@news")
    assert buttons(warning) == [
        {"text": "Join News", "url": "https://t.me/news"},
        {"text": texts.DEFAULT_VERIFY_BUTTON, "callback_data": keyboards.verify_data(nick)},
    ]


def test_a_subscriber_who_joins_and_writes_is_left_alone(protected):
    sub = int(protected.sandbox.create_user("Sue")["id"])
    protected.sandbox.set_member(protected.channel, sub, "member")
    protected.sandbox.join(sub, protected.group)
    protected.deliver()

    message_id = protected.say(sub, "hello")

    assert protected.status(sub) == "member"
    assert protected.present(message_id)
    assert protected.calls("restrictChatMember") == []


def test_a_non_subscriber_message_is_deleted_and_the_sender_muted_and_warned(protected):
    nick = protected.user("Nick", subscribed=False)

    message_id = protected.say(nick, "buy my stuff")

    assert not protected.present(message_id)
    assert protected.status(nick) == "restricted"
    assert len(protected.warnings()) == 1


def test_at_most_one_warning_per_user_and_group_within_five_minutes(protected):
    # given a non-subscriber muted and warned, whom an admin then unmuted by hand
    nick = protected.user("Nick", subscribed=False)
    protected.say(nick, "first")
    protected.sandbox.set_member(protected.group, nick, "member")
    protected.skip_pending()

    # when they write again at once
    second = protected.say(nick, "second")

    # then the message is deleted and they are muted again, without a second warning
    assert not protected.present(second)
    assert protected.status(nick) == "restricted"
    assert len(protected.warnings()) == 1
    assert len(protected.calls("restrictChatMember")) == 2


def test_admins_anonymous_admins_and_automatic_forwards_are_never_touched(protected, sandbox):
    # given an admin who is not subscribed, and the channel linked to the group
    admin = protected.user("Ada", subscribed=False)
    sandbox.set_member(protected.group, admin, "administrator")
    sandbox.update_chat(protected.channel, linked_chat_id=protected.group)
    protected.deliver()

    # when the admin, an anonymous admin and the channel's automatic forward write
    mine = protected.say(admin, "admin here")
    anonymous = protected.say(None, "anonymous admin", sender_chat_id=protected.group)
    forward = protected.say(None, "from the channel", is_automatic_forward=True,
                            sender_chat_id=protected.channel)  # fmt: skip

    # then nothing is deleted and nobody restricted
    assert all(protected.present(m) for m in (mine, anonymous, forward))
    assert protected.calls("restrictChatMember") == []
    assert protected.calls("deleteMessage") == []


def test_every_linked_channel_is_required_and_the_warning_names_only_the_missing_one(
    protected, sandbox
):
    # given the group also requires a second channel
    extra = sandbox.create_chat(
        "channel", title="Deals", username="deals", owner_id=protected.owner
    )
    sandbox.add_bot(protected.bot.username, extra["id"], status="administrator")
    protected.deliver()
    protected.say(protected.owner, "/protect @news @deals")

    # when a user subscribed only to @news writes
    half = protected.user("Hal", subscribed=True)
    message_id = protected.say(half, "hi")

    # then they are muted and the warning offers only @deals
    assert not protected.present(message_id)
    assert protected.status(half) == "restricted"
    warning = protected.warnings()[-1]
    assert "@deals" in warning["params"]["text"] and "@news" not in warning["params"]["text"]
    assert buttons(warning)[0] == {"text": "Join Deals", "url": "https://t.me/deals"}


def test_the_verify_button_pressed_by_someone_else_gets_an_alert_and_changes_nothing(protected):
    nick = protected.user("Nick", subscribed=False)
    protected.say(nick, "hi")
    warning_id = protected.warnings()[0]["response"]["result"]["message_id"]
    other = protected.user("Otto", subscribed=True)

    protected.sandbox.press(other, protected.group, warning_id)
    protected.deliver()

    [answer] = answers(protected)
    assert answer["text"] == texts.VERIFY_NOT_YOURS
    assert answer["show_alert"] == "True"  # as received: form-encoded
    assert protected.status(nick) == "restricted"
    assert protected.present(warning_id)


def test_verify_before_joining_alerts_then_after_joining_unmutes_and_deletes_the_warning(
    protected,
):
    # given a muted, warned non-subscriber
    nick = protected.user("Nick", subscribed=False)
    protected.say(nick, "hi")
    warning_id = protected.warnings()[0]["response"]["result"]["message_id"]

    # when they press before joining: an alert naming the channel, still muted
    protected.sandbox.press(nick, protected.group, warning_id)
    protected.deliver()
    assert answers(protected)[-1]["text"] == texts.VERIFY_MISSING.format(channels="@news")
    assert protected.status(nick) == "restricted"

    # when they join the channel without the bot hearing of it (the negative cache is skipped)
    protected.sandbox.set_member(protected.channel, nick, "member")
    protected.skip_pending()
    protected.sandbox.press(nick, protected.group, warning_id)
    protected.deliver()

    # then they are unmuted to the group's defaults and the warning is gone
    assert answers(protected)[-1]["text"] == texts.VERIFY_DONE
    assert protected.status(nick) == "member"
    assert not protected.present(warning_id)
    assert protected.say(nick, "thanks!")  # the sandbox refuses a muted member's message


# Outside a test's transaction: a job inside one asks one thing at a time (gmbot/fanout.py).
@pytest.mark.django_db(transaction=True)
def test_a_press_asks_for_the_groups_permissions_while_the_channel_is_checked(protected):
    # given a muted, warned non-subscriber who has since joined the channel
    nick = protected.user("Nick", subscribed=False)
    protected.say(nick, "hi")
    warning_id = protected.warnings()[0]["response"]["result"]["message_id"]
    protected.sandbox.set_member(protected.channel, nick, "member")
    protected.skip_pending()
    # and Telegram slow to answer the channel check
    protected.sandbox.fault("getChatMember", delay_ms=600, times=1, chat_id=protected.channel)
    since = protected.sandbox.calls()[-1]["seq"]

    # when they press the button
    protected.sandbox.press(nick, protected.group, warning_id)
    protected.deliver()

    # then the group's permissions (getChat) were answered while the check still waited (the
    # log records a call when it is answered), and the unmute followed both
    calls = protected.sandbox.calls(bot=protected.bot.username, since=since)
    order = [c["method"] for c in calls if c["method"] in ("getChat", "getChatMember",
                                                          "restrictChatMember")]  # fmt: skip
    assert order == ["getChat", "getChatMember", "restrictChatMember"]
    assert protected.status(nick) == "member"


def test_a_press_that_finds_the_channel_missing_still_gets_its_alert_when_getchat_fails(
    protected,
):
    # given a muted, warned non-subscriber, and the group's getChat failing
    nick = protected.user("Nick", subscribed=False)
    protected.say(nick, "hi")
    warning_id = protected.warnings()[0]["response"]["result"]["message_id"]
    protected.sandbox.fault("getChat", error_code=400, description="Bad Request: chat not found")

    # when they press before joining
    protected.sandbox.press(nick, protected.group, warning_id)
    protected.deliver()

    # then the alert names the channel all the same, and they stay muted
    assert answers(protected)[-1]["text"] == texts.VERIFY_MISSING.format(channels="@news")
    assert protected.status(nick) == "restricted"


def test_leaving_the_channel_mutes_and_warns_in_every_group_it_protects(protected):
    # given a second group protected by the same channel, and a subscriber in both groups
    second, sue = _in_two_groups(protected)
    assert protected.calls("restrictChatMember") == []

    # when she leaves the channel
    protected.sandbox.leave(sue, protected.channel)
    protected.deliver()

    # then she is muted and warned in both groups
    assert protected.status(sue) == "restricted"
    assert protected.status(sue, second) == "restricted"
    [warning] = protected.warnings()
    [warning_2] = protected.warnings(second)
    expected = texts.LEFT_CHANNEL_WARNING.format(name="Sue", channels="@news")
    assert warning["params"]["text"] == warning_2["params"]["text"] == expected


def _in_two_groups(protected: Guarded) -> tuple[int, int]:
    """A second group protected by the channel, and a subscriber who wrote in both."""
    second = protected.add_group("Fans 2")
    protected.say(protected.owner, "/protect @news", chat=second)
    sue = protected.user("Sue", subscribed=True)
    protected.sandbox.set_member(second, sue, "member")
    protected.skip_pending()
    protected.say(sue, "hi")
    protected.say(sue, "hi there", chat=second)
    return second, sue


# Outside a test's transaction: a job inside one asks one thing at a time (gmbot/fanout.py).
@pytest.mark.django_db(transaction=True)
def test_a_leave_asks_every_linked_group_at_once_and_acts_on_each_answer_as_it_comes(protected):
    # given a subscriber in two protected groups, and Telegram slow to answer about the first
    second, sue = _in_two_groups(protected)
    protected.sandbox.fault("getChatMember", delay_ms=600, times=1, chat_id=protected.group)
    since = protected.sandbox.calls()[-1]["seq"]

    # when she leaves the channel
    protected.sandbox.leave(sue, protected.channel)
    protected.deliver()

    # then the second group was answered while the first still waited (the log records a call
    # when it is answered), she was muted there before the first group's answer came, and she
    # is muted in both
    done = [(c["method"], int(c["params"]["chat_id"])) for c in protected.sandbox.calls(since=since)
            if c["method"] in ("getChatMember", "restrictChatMember")]  # fmt: skip
    asked = [chat for method, chat in done if method == "getChatMember"]
    assert asked == [second, protected.group]
    assert done.index(("restrictChatMember", second)) < done.index(
        ("getChatMember", protected.group)
    )
    assert protected.status(sue) == protected.status(sue, second) == "restricted"


# Outside a test's transaction: a job inside one asks one thing at a time (gmbot/fanout.py).
@pytest.mark.django_db(transaction=True)
def test_a_leave_mutes_in_the_first_group_before_the_others_have_answered(protected):
    # given a subscriber in two protected groups, and Telegram slow to answer about the second
    second, sue = _in_two_groups(protected)
    protected.sandbox.fault("getChatMember", delay_ms=600, times=1, chat_id=second)
    since = protected.sandbox.calls()[-1]["seq"]

    # when she leaves the channel
    protected.sandbox.leave(sue, protected.channel)
    protected.deliver()

    # then the first group's mute was answered while the second's check still waited, and she
    # is muted in both
    done = [(c["method"], int(c["params"]["chat_id"])) for c in protected.sandbox.calls(since=since)
            if c["method"] in ("getChatMember", "restrictChatMember")]  # fmt: skip
    assert done.index(("restrictChatMember", protected.group)) < done.index(
        ("getChatMember", second)
    )
    assert protected.status(sue) == protected.status(sue, second) == "restricted"


# Outside a test's transaction: a job inside one asks one thing at a time (gmbot/fanout.py).
@pytest.mark.django_db(transaction=True)
def test_a_leave_mutes_while_the_groups_other_channel_is_asked(protected, sandbox):
    # given a group requiring two channels, a member of both who wrote (so the bot knows her),
    # and Telegram slow to answer about the second channel
    deals = int(sandbox.create_chat("channel", title="Deals", username="deals",
                                    owner_id=protected.owner)["id"])  # fmt: skip
    sandbox.add_bot(protected.bot.username, deals, status="administrator")
    protected.deliver()
    protected.say(protected.owner, "/protect @news @deals")
    sue = protected.user("Sue", subscribed=True)
    sandbox.set_member(deals, sue, "member")
    protected.skip_pending()
    protected.say(sue, "hi")
    gmbot_redis.get_redis().flushdb()  # the memberships are asked again, @deals slowly
    sandbox.fault("getChatMember", delay_ms=600, times=1, chat_id=deals)
    since = sandbox.calls()[-1]["seq"]

    # when she leaves @news
    sandbox.leave(sue, protected.channel)
    protected.deliver()

    # then the mute was answered while @deals still waited (the log records a call when it is
    # answered), and the warning names only the channel she left
    calls = sandbox.calls(bot=protected.bot.username, since=since)
    order = [c["method"] + ("@deals" if c["chat_id"] == deals else "") for c in calls
             if c["method"] in ("getChatMember", "restrictChatMember")]  # fmt: skip
    assert order[-2:] == ["restrictChatMember", "getChatMember@deals"]
    assert protected.status(sue) == "restricted"
    [warning] = protected.warnings()
    assert warning["params"]["text"] == texts.LEFT_CHANNEL_WARNING.format(
        name="Sue", channels="@news"
    )


def test_a_group_that_fails_during_a_leave_keeps_no_other_group_from_its_mute(protected):
    # given a subscriber in two protected groups, and the first group's check failing
    second, sue = _in_two_groups(protected)
    protected.sandbox.fault(
        "getChatMember", error_code=400, description="Bad Request: odd", chat_id=protected.group
    )

    # when she leaves the channel: the job fails, to be retried
    protected.sandbox.leave(sue, protected.channel)
    with pytest.raises(BadRequest):
        protected.deliver()

    # but not before she was muted and warned in the second group
    assert protected.status(sue, second) == "restricted"
    assert protected.warnings(second)


def test_with_redis_down_a_non_subscriber_is_still_checked_muted_and_warned(protected, caplog):
    nick = protected.user("Nick", subscribed=False)

    # when Redis is unreachable during the check
    with override_settings(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0"):
        gmbot_redis.reset_connections()
        try:
            message_id = protected.say(nick, "hi")
        finally:
            gmbot_redis.reset_connections()

    # then the API answered instead of the cache: deleted, muted, warned; a warning logged
    assert not protected.present(message_id)
    assert protected.status(nick) == "restricted"
    assert len(protected.warnings()) == 1
    assert "guard: Redis unavailable" in caplog.text
