"""A command is a message like any other in a protected group (G4, G6): a non-subscriber's is
enforced, not answered; only the group's admins run the guard's commands, and only commands
addressed to this bot."""

from __future__ import annotations

import pytest

from apps.guard import texts

pytestmark = pytest.mark.django_db


def replies(world) -> list[str]:
    return [call["params"]["text"] for call in world.calls("sendMessage", world.group)]


@pytest.mark.parametrize(
    "text",
    [
        "/status@{bot} cheap followers, DM me",
        "/protect@{bot} @spam_channel",
        "/settings",
        "/foo@OtherBot hi",
        "/status@OtherBot",
    ],
)
def test_a_non_subscribers_command_is_deleted_and_the_sender_muted_and_warned(protected, text):
    # given a member who is not subscribed to the channel
    nick = protected.user("Nick", subscribed=False)

    # when they write a command, the guard's own or another bot's
    message_id = protected.say(nick, text.format(bot=protected.bot.username))

    # then it is enforced like any message, and no refusal spends the group's budget
    assert not protected.present(message_id)
    assert protected.status(nick) == "restricted"
    assert len(protected.warnings()) == 1
    assert not [reply for reply in replies(protected) if reply.startswith("Sorry, only")]


def test_an_admins_command_addressed_to_the_bot_is_answered_and_one_to_another_bot_is_not(
    protected,
):
    # when the owner asks this bot, then another bot, for the status
    protected.say(protected.owner, f"/status@{protected.bot.username}")
    protected.say(protected.owner, "/status@OtherBot")

    # then only the first is answered
    assert replies(protected)[1:] == [
        texts.STATUS.format(state="active", channels="@news", verified=0, restricted=0)
    ]
    assert protected.calls("deleteMessage") == []
