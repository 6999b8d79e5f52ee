"""My account (SPEC D5), and a polite answer to anything the bot does not expect in private."""

from __future__ import annotations

import pytest

from apps.accounts import keyboards, texts

pytestmark = pytest.mark.django_db


def test_my_account_shows_points_referrals_bots_and_the_referral_link(chats):
    # given Ana, whose link brought Ben and Cara
    ana = chats.user("Ana")
    chats.start(ana)
    menu = chats.last(ana)["message_id"]
    for name in ("Ben", "Cara"):
        chats.start(chats.user(name), f"ref_{ana}")

    # when she presses «My account» under her welcome
    chats.press(ana, menu, keyboards.ACCOUNT)

    # then that message became her account, with buttons
    view = chats.message(ana, menu)
    assert view["text"] == texts.ACCOUNT.format(
        points=30,
        count=2,
        referral_points=20,
        bots=texts.NO_BOTS,
        link=f"https://t.me/{chats.bot.username}?start=ref_{ana}",
    )
    assert set(chats.buttons(view)) == {texts.BUTTON_LIVE, texts.BUTTON_CLONE}


@pytest.mark.parametrize("send", ["hello", "/foo", "sticker"])
def test_anything_unexpected_in_private_gets_a_polite_answer(chats, send):
    # given Ana, a user
    ana = chats.user("Ana")
    chats.start(ana)

    # when she sends words, an unknown command, or a photo
    if send == "sticker":
        chats.sandbox.message(ana, None, None, bot=chats.bot.username, photo=True)
        chats.deliver()
    else:
        chats.say(ana, send)

    # then she is pointed at the menu
    assert chats.texts(ana)[-1] == texts.FALLBACK
    assert texts.BUTTON_LIVE in chats.buttons(chats.last(ana))


def test_a_command_before_start_asks_for_start(chats):
    # when someone who never pressed Start sends /live and /account
    ana = chats.user("Ana")
    chats.say(ana, "/live")
    chats.say(ana, "/account")

    # then both times they are asked to /start first
    assert chats.texts(ana) == [texts.START_FIRST, texts.START_FIRST]
