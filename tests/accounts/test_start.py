"""/start and referrals (SPEC D1): registered once, 10 points once, a referrer credited once
per new user and told; no credit for oneself, an existing user, a second use of the link or a
redelivered update."""

from __future__ import annotations

import pytest

from apps.accounts import texts
from apps.accounts.models import LedgerEntry
from apps.ingress import dispatch

pytestmark = pytest.mark.django_db


def ledger(account) -> list[tuple[str, int]]:
    return sorted(account.ledger.values_list("reason", "delta"))


def test_start_registers_the_user_and_grants_ten_points_once(chats):
    # given a user with a username and a language
    ana = chats.user("Ana", username="ana", language_code="pt")

    # when she starts the bot, then starts it again
    chats.start(ana)
    chats.start(ana)

    # then she is registered once, with 10 points and one ledger row for them
    account = chats.account(ana)
    assert (account.username, account.first_name, account.language_code) == ("ana", "Ana", "pt")
    assert not account.blocked and account.started_at is not None
    assert account.points == 10
    assert ledger(account) == [("start", 10)]
    welcome, again = chats.texts(ana)
    assert welcome.startswith("Welcome, Ana! 🎉 You have 10 points")
    assert f"https://t.me/{chats.bot.username}?start=ref_{ana}" in welcome
    assert again == texts.WELCOME_BACK.format(name="Ana", points=10)


@pytest.mark.parametrize("payload", ["ref_{id}", "{id}"])
def test_a_referral_link_credits_the_referrer_once_and_tells_them(chats, payload):
    # given Ana, who started the bot
    ana, ben = chats.user("Ana"), chats.user("Ben")
    chats.start(ana)

    # when Ben starts it through her link, and later uses the link again
    chats.start(ben, payload.format(id=ana))
    chats.start(ben, payload.format(id=ana))

    # then Ana earned 10 points once and was told once; Ben has his own 10
    assert chats.account(ana).points == 20
    assert ledger(chats.account(ana)) == [("referral", 10), ("start", 10)]
    assert chats.account(ben).points == 10
    assert chats.account(ben).referred_by == chats.account(ana)
    told = [text for text in chats.texts(ana) if text.startswith("🎉")]
    assert told == [texts.REFERRER_TOLD.format(name="Ben", points=10, balance=20)]
    assert "You came through Ana's link" in chats.texts(ben)[0]


def test_referring_oneself_or_an_existing_user_earns_nothing(chats):
    # given Ana, who starts the bot through her own link, and Ben, who started it before
    ana, ben = chats.user("Ana"), chats.user("Ben")
    chats.start(ana, f"ref_{ana}")
    chats.start(ben)

    # when Ben, already a user, follows Ana's link
    chats.start(ben, f"ref_{ana}")

    # then nobody earned a referral
    assert chats.account(ana).points == 10
    assert chats.account(ben).points == 10
    assert not LedgerEntry.objects.filter(reason=LedgerEntry.REFERRAL).exists()
    assert chats.account(ana).referred_by is None


def test_a_start_run_again_after_its_commit_credits_nothing_more(chats, redis_client):
    # given Ben's /start through Ana's link, processed once
    ana, ben = chats.user("Ana"), chats.user("Ben")
    chats.start(ana)
    chats.sandbox.start(ben, chats.bot.username, f"ref_{ana}")
    update = chats.sandbox.updates(bot=chats.bot.username)[-1]
    chats.deliver()

    # when the same update runs again, as if its job had died after committing (no done-mark)
    redis_client.delete(f"gmbot:done:{chats.bot.pk}:{update['update_id']}")
    with chats.capture(execute=True):
        dispatch.process_update(chats.bot.pk, update["update"])

    # then both grants stand once, and Ana was told once
    assert chats.account(ben).points == 10
    assert chats.account(ana).points == 20
    assert LedgerEntry.objects.filter(reason=LedgerEntry.REFERRAL).count() == 1
    assert LedgerEntry.objects.filter(reason=LedgerEntry.START).count() == 2
    assert len([t for t in chats.texts(ana) if t.startswith("🎉")]) == 1


def test_blocking_the_bot_marks_the_account_and_starting_again_clears_it(chats):
    # given Ana, a user
    ana = chats.user("Ana")
    chats.start(ana)

    # when she blocks the bot, then starts it again
    chats.sandbox.block(ana, chats.bot.username)
    chats.deliver()
    blocked = chats.account(ana).blocked
    chats.start(ana)

    # then the account said so while it lasted
    assert blocked is True
    assert chats.account(ana).blocked is False
