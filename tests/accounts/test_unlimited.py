"""Unlimited points for group admins (SPEC D4): /init and /activate in a group, for one of its
admins while the bot is an admin too; clear answers to everyone else."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.accounts import keyboards, texts
from apps.accounts.models import GroupRegistration, LedgerEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def group(chats):
    """Olga's supergroup with the bot as an admin, Nick a member; both started the bot."""
    olga, nick = chats.user("Olga"), chats.user("Nick")
    chat = chats.sandbox.create_chat("supergroup", title="Olga's fans", owner_id=olga)["id"]
    chats.sandbox.add_bot(chats.bot.username, chat, status="administrator")
    chats.sandbox.set_member(chat, nick, "member")
    chats.start(olga)
    chats.start(nick)
    return {"id": chat, "olga": olga, "nick": nick}


def say_in(chats, group, user: int, text: str) -> str:
    chats.sandbox.message(user, group["id"], text)
    chats.deliver()
    return chats.texts(group["id"])[-1]


def test_init_and_activate_by_an_admin_make_her_checks_free(chats, group, live_now):
    # given a streamer live now
    live_now(1)

    # when Olga, the group's creator, sends /init and /activate there, then checks who is live
    init = say_in(chats, group, group["olga"], "/init")
    activate = say_in(chats, group, group["olga"], f"/activate@{chats.bot.username}")
    chats.say(group["olga"], "/live")

    # then her points are unlimited for 30 days, and the check took nothing
    olga = chats.account(group["olga"])
    assert init == texts.INIT_DONE.format(name="Olga")
    assert activate.startswith("♾ Olga has unlimited points until")
    assert olga.unlimited_until - timezone.now() > timedelta(days=29, hours=23)
    assert olga.points == 10
    assert not olga.ledger.filter(reason=LedgerEntry.CHECK_LIVE).exists()
    assert texts.LIVE_UNLIMITED in chats.texts(group["olga"])[-1]
    registration = GroupRegistration.objects.get()
    assert (registration.account, registration.group.chat_id) == (olga, group["id"])
    assert registration.activated_at is not None


def test_a_member_who_is_not_an_admin_is_refused_both(chats, group):
    # when Nick, a member, sends /init and /activate
    init = say_in(chats, group, group["nick"], "/init")
    activate = say_in(chats, group, group["nick"], "/activate")

    # then both are refused and nothing is recorded
    assert init == texts.GROUP_ADMINS_ONLY.format(command="init")
    assert activate == texts.GROUP_ADMINS_ONLY.format(command="activate")
    assert not GroupRegistration.objects.exists()
    assert chats.account(group["nick"]).unlimited_until is None


def test_an_admin_who_is_no_longer_one_cannot_activate(chats, group):
    # given Nick, promoted, registered the group, then lost his admin rights
    chats.sandbox.set_member(group["id"], group["nick"], "administrator")
    say_in(chats, group, group["nick"], "/init")
    chats.sandbox.set_member(group["id"], group["nick"], "member")

    # when he sends /activate
    activate = say_in(chats, group, group["nick"], "/activate")

    # then he is refused: his admin status is asked of Telegram again
    assert activate == texts.GROUP_ADMINS_ONLY.format(command="activate")
    assert chats.account(group["nick"]).unlimited_until is None


def test_init_is_refused_while_the_bot_is_not_an_admin(chats, group):
    # given the bot demoted to a member of the group
    chats.sandbox.set_member(group["id"], chats.bot.username, "member")
    chats.deliver()

    # when Olga sends /init
    init = say_in(chats, group, group["olga"], "/init")

    # then she is told what to fix
    assert init == texts.GROUP_BOT_NOT_ADMIN.format(command="init")
    assert not GroupRegistration.objects.exists()


def test_init_and_activate_say_what_is_missing(chats, group):
    # given an admin who never started the bot in private
    zoe = chats.user("Zoe")
    chats.sandbox.set_member(group["id"], zoe, "administrator")

    # when she sends /init, Olga sends /activate before /init, and Olga sends /init in private
    no_account = say_in(chats, group, zoe, "/init")
    no_init = say_in(chats, group, group["olga"], "/activate")
    chats.say(group["olga"], "/init")

    # then each is told what to do
    assert no_account == texts.GROUP_START_FIRST.format(
        name="Zoe", bot=chats.bot.username, command="init"
    )
    assert no_init == texts.ACTIVATE_INIT_FIRST.format(name="Olga")
    assert chats.texts(group["olga"])[-1] == texts.GROUP_ONLY.format(command="init")


def test_an_anonymous_admin_is_asked_to_post_as_themselves(chats, group):
    # when an admin posts /init as the group itself
    chats.sandbox.message(group["olga"], group["id"], "/init", sender_chat_id=group["id"])
    chats.deliver()

    # then they are told why nothing happened
    assert chats.texts(group["id"])[-1] == texts.GROUP_ANONYMOUS.format(command="init")
    assert not GroupRegistration.objects.exists()


def test_the_account_view_shows_unlimited_points(chats, group):
    # given Olga with unlimited points
    say_in(chats, group, group["olga"], "/init")
    say_in(chats, group, group["olga"], "/activate")

    # when she opens her account
    chats.say(group["olga"], "/account")

    # then it says so
    assert "Points: unlimited until" in chats.texts(group["olga"])[-1]
    assert keyboards.LIVE in chats.buttons(chats.last(group["olga"])).values()
