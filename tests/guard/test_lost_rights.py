"""Lost rights pause protection and tell the owner (G10); batch verification (G11)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.chats.models import Group
from apps.guard import texts
from apps.guard.models import GroupProtection, MemberState
from apps.guard.services import batch

pytestmark = pytest.mark.django_db


def owner_dms(world) -> list[str]:
    """What the bot wrote to the owner in private, besides the answer to their /start."""
    texts_sent = [call["params"]["text"] for call in world.calls("sendMessage", world.owner)]
    return [text for text in texts_sent if text != texts.HELP]


def test_demoting_the_bot_pauses_protection_tells_the_owner_and_stops_enforcement(protected):
    # when an admin demotes the bot to a plain member
    protected.sandbox.add_bot(protected.bot.username, protected.group, status="member")
    protected.deliver()

    # then protection is paused, visible in /status, and the owner told what to do
    group = GroupProtection.objects.get(group__chat_id=protected.group)
    assert group.paused_at is not None
    assert group.pause_reason == texts.PAUSE_REASONS["demoted"]
    [dm] = owner_dms(protected)
    assert "I paused protection in «Fans»" in dm and "/reactivate" in dm

    # and a non-subscriber's message costs no enforcement call at all
    calls_before = len(protected.sandbox.calls(bot=protected.bot.username))
    nick = protected.user("Nick", subscribed=False)
    message_id = protected.say(nick, "hello")
    assert protected.present(message_id)
    assert len(protected.sandbox.calls(bot=protected.bot.username)) == calls_before


def test_reactivate_after_the_rights_are_back_resumes_protection(protected):
    # given a paused group whose admin gave the bot its rights back
    protected.sandbox.add_bot(protected.bot.username, protected.group, status="member")
    protected.deliver()
    protected.sandbox.add_bot(protected.bot.username, protected.group, status="administrator",
                              can_delete_messages=True, can_restrict_members=True)  # fmt: skip
    protected.deliver()

    # when the owner runs /reactivate
    protected.say(protected.owner, "/reactivate")

    # then protection is active again and enforcement resumes
    assert (
        texts.REACTIVATE_DONE
        in protected.calls("sendMessage", protected.group)[-1]["params"]["text"]
    )
    assert GroupProtection.objects.get(group__chat_id=protected.group).paused_at is None
    nick = protected.user("Nick", subscribed=False)
    protected.say(nick, "hello")
    assert protected.status(nick) == "restricted"


def test_a_rights_error_pauses_once_and_an_owner_who_never_started_the_bot_is_only_logged(
    protected, sandbox, caplog
):
    # given an owner who never started the bot, and Telegram refusing restrictions for rights
    Group.objects.filter(chat_id=protected.group).update(owner=None)
    sandbox.fault(
        "restrictChatMember",
        error_code=400,
        description="Bad Request: not enough rights to restrict/unrestrict chat member",
    )
    nick = protected.user("Nick", subscribed=False)
    nora = protected.user("Nora", subscribed=False)

    # when two non-subscribers write
    protected.say(nick, "hi")
    protected.say(nora, "hi")

    # then the group is paused after the first refusal; the second costs no call
    assert GroupProtection.objects.get(group__chat_id=protected.group).paused_at is not None
    assert len([c for c in sandbox.calls(method="restrictChatMember")]) == 1
    assert "protection paused" in caplog.text


def test_batch_verification_mutes_an_active_member_who_left_unnoticed(protected):
    # given a verified member, last checked two hours ago, who left the channel unnoticed
    sue = protected.user("Sue", subscribed=True)
    protected.say(sue, "hi")
    MemberState.objects.filter(user_id=sue).update(checked_at=timezone.now() - timedelta(hours=2))
    protected.sandbox.set_member(protected.channel, sue, "left")
    protected.skip_pending()

    # when the batch runs
    result = batch.do_verify_recent_members()

    # then she is muted and warned, and her record says so
    assert result == {"checked": 1, "muted": 1}
    assert protected.status(sue) == "restricted"
    assert len(protected.warnings()) == 1
    assert MemberState.objects.get(user_id=sue).status == MemberState.Status.RESTRICTED
