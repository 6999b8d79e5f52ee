"""/clone and conversations (SPEC D7): features chosen, then the token; its message deleted at
once, checked with getMe, stored encrypted, the clone's webhook set with a secret of its own and
the owner told; a bad token, /cancel, expiry; the owner lists and removes clones."""

from __future__ import annotations

import time

import pytest

from apps.accounts import keyboards, texts
from apps.accounts.models import Clone
from apps.accounts.services import clones
from apps.bots import crypto
from apps.bots.models import Bot
from tests.accounts.conftest import bot_token
from tests.factories import BotFactory

pytestmark = pytest.mark.django_db

CLONE_ID = 7_300_000_001


def conversation_key(chats, user: int) -> str:
    return f"gmbot:accounts:conversation:{chats.bot.pk}:{user}"


def asked_for_a_token(chats, name: str = "Ana", chosen: tuple[str, ...] = ("accounts",)) -> int:
    """A user who started the bot, sent /clone, chose features and pressed Continue."""
    user = chats.user(name)
    chats.start(user)
    chats.say(user, "/clone")
    picker = chats.last(user)["message_id"]
    for name_ in chosen:
        chats.press(user, picker, keyboards.CHOOSE + name_)
    chats.press(user, picker, keyboards.CONTINUE)
    return user


def new_bot(chats) -> str:
    """Ana's new bot, made with @BotFather: its token."""
    token = bot_token(CLONE_ID)
    chats.sandbox.create_bot(token=token, username="ana_live_bot")
    return token


def cloned(chats) -> tuple[int, Bot]:
    """Ana and the clone she made."""
    ana = asked_for_a_token(chats)
    chats.say(ana, new_bot(chats))
    return ana, Bot.objects.get(telegram_id=CLONE_ID)


def deleted(chats, user: int, message_id: int) -> bool:
    found = [
        m
        for m in chats.sandbox.messages(user, bot=chats.bot.username, include_deleted=True)
        if m["message_id"] == message_id
    ]
    return bool(found and found[0].get("deleted"))


def test_clone_with_a_good_token_stores_it_encrypted_sets_its_webhook_and_tells_the_owner(
    chats, settings, redis_client
):
    # given Ana at the token step, having chosen the accounts feature, and her new bot
    settings.WEBHOOK_BASE_URL = "http://127.0.0.1:9"  # nothing listens: only the call matters
    ana = asked_for_a_token(chats)
    asked = chats.last(ana)
    conversation_ttl = redis_client.ttl(conversation_key(chats, ana))
    token = new_bot(chats)

    # when she sends the token
    message_id = chats.say(ana, token)

    # then its message is gone, the bot is hers, encrypted, and registered with its own secret
    assert asked["text"] == texts.CLONE_ASK_TOKEN
    assert 86_390 <= conversation_ttl <= 86_400
    assert deleted(chats, ana, message_id)
    row = Bot.objects.get(telegram_id=CLONE_ID)
    assert (row.username, row.owner.telegram_id, row.features) == (
        "ana_live_bot",
        ana,
        ["accounts"],
    )
    assert token not in row.encrypted_token and row.token == token
    assert Clone.objects.get(bot=row).parent == chats.bot
    (webhook,) = chats.calls("setWebhook", bot=row)
    assert webhook["params"]["url"] == "http://127.0.0.1:9/api/webhooks/telegram"
    assert crypto.hash_secret(webhook["params"]["secret_token"]) == row.webhook_secret_hash
    checked = chats.texts(ana)[-1]
    assert checked == texts.CLONE_CHECKED.format(bot="ana_live_bot")
    assert chats.last(ana)["text"] == texts.CLONE_READY.format(
        bot="ana_live_bot", features="Accounts"
    )
    assert not redis_client.exists(conversation_key(chats, ana))

    # and the clone answers in its own private chat
    chats.start(ana, bot=row)
    assert chats.texts(ana, bot=row)[0].startswith("Welcome, Ana! 🎉 You have 10 points")
    assert f"https://t.me/ana_live_bot?start=ref_{ana}" in chats.texts(ana, bot=row)[0]


def test_without_a_public_url_the_clone_is_left_for_runbot(chats, settings):
    # given no public URL configured, and Ana at the token step
    settings.WEBHOOK_BASE_URL = ""

    # when Ana clones her bot
    ana, row = cloned(chats)

    # then no webhook is set (runbot can long-poll it) and she is told so
    assert chats.calls("setWebhook", bot=row) == []
    assert len(chats.calls("deleteWebhook", bot=row)) == 1
    assert chats.last(ana)["text"] == texts.CLONE_READY_POLLING.format(
        bot="ana_live_bot", features="Accounts"
    )


def test_a_bad_token_is_refused_and_the_conversation_waits_for_a_good_one(chats):
    # given Ana at the token step, and a bot GMBot runs for someone else
    ana = asked_for_a_token(chats)
    taken = bot_token(CLONE_ID + 1)
    chats.sandbox.create_bot(token=taken, username="olga_bot")
    BotFactory(telegram_id=CLONE_ID + 1, username="olga_bot", token=taken)

    # when she sends a token Telegram does not know, then words, then the other bot's token
    unknown = chats.say(ana, bot_token(CLONE_ID + 2))
    chats.say(ana, "what is a token?")
    chats.say(ana, taken)

    # then each is refused, the token messages deleted, and nothing stored
    assert deleted(chats, ana, unknown)
    assert chats.texts(ana)[-3:] == [
        texts.CLONE_BAD_TOKEN.format(reason="Telegram refused the token: Unauthorized"),
        texts.CLONE_NOT_A_TOKEN,
        texts.CLONE_ALREADY_SERVED.format(bot="olga_bot"),
    ]
    assert not Clone.objects.exists()
    assert Bot.objects.get(telegram_id=CLONE_ID + 1).owner.telegram_id != ana


def test_features_that_cannot_run_together_are_refused_at_continue(chats):
    # given Ana choosing both the guard and the accounts feature
    ana = chats.user("Ana")
    chats.start(ana)
    chats.say(ana, "/clone")
    picker = chats.last(ana)["message_id"]
    chats.press(ana, picker, keyboards.CHOOSE + "guard")
    chats.press(ana, picker, keyboards.CHOOSE + "accounts")

    # when she presses Continue
    chats.press(ana, picker, keyboards.CONTINUE)

    # then she is told why, and the picker stays, both ticked
    alert = chats.calls("answerCallbackQuery")[-1]["params"]["text"]
    assert alert.startswith("Those cannot run together: features guard and accounts both answer")
    assert {"☑ Guard", "☑ Accounts"} <= set(chats.buttons(chats.last(ana)))


def test_cancel_leaves_the_conversation_and_a_token_sent_later_is_only_deleted(chats, redis_client):
    # given Ana at the token step
    ana = asked_for_a_token(chats)
    token = new_bot(chats)

    # when she sends /cancel, then the token anyway
    chats.say(ana, "/cancel")
    message_id = chats.say(ana, token)

    # then the conversation is over: the token's message is deleted and nothing is cloned
    assert chats.texts(ana)[-2:] == [texts.CANCELLED, texts.TOKEN_DELETED]
    assert not redis_client.exists(conversation_key(chats, ana))
    assert deleted(chats, ana, message_id)
    assert not Bot.objects.filter(telegram_id=CLONE_ID).exists()


def test_a_conversation_expires(chats, settings):
    # given conversations kept one second, and Ana's /clone
    settings.ACCOUNTS_CONVERSATION_SECONDS = 1
    ana = chats.user("Ana")
    chats.start(ana)
    chats.say(ana, "/clone")
    picker = chats.last(ana)["message_id"]

    # when she answers after it expired
    time.sleep(1.5)
    chats.press(ana, picker, keyboards.CHOOSE + "accounts")

    # then she is told to start again
    assert chats.calls("answerCallbackQuery")[-1]["params"]["text"] == texts.CONVERSATION_EXPIRED


def test_the_owner_sees_her_clones_in_her_account_and_removes_one(chats, settings):
    # given Ana's clone
    settings.WEBHOOK_BASE_URL = ""
    ana, row = cloned(chats)

    # when she opens her account, presses Remove, then confirms
    chats.say(ana, "/account")
    view = chats.last(ana)
    chats.press(ana, view["message_id"], chats.buttons(view)["🗑 Remove @ana_live_bot"])
    confirm = chats.last(ana)
    chats.press(ana, confirm["message_id"], chats.buttons(confirm)["Yes, remove @ana_live_bot"])

    # then her account listed it, and now it is gone here and its webhook at Telegram
    assert "Your bots: @ana_live_bot" in view["text"]
    assert confirm["text"] == texts.REMOVE_CONFIRM.format(bot="ana_live_bot")
    assert chats.last(ana)["text"] == texts.REMOVED.format(bot="ana_live_bot")
    assert not Bot.objects.filter(pk=row.pk).exists()
    assert len(chats.calls("deleteWebhook", bot=row)) == 2  # registered for runbot, then removed


def test_only_its_owner_may_remove_a_clone(chats, settings):
    # given Ana's clone
    settings.WEBHOOK_BASE_URL = ""
    _, row = cloned(chats)

    # when a removal of it comes from Ben (a button of his could only carry such data if forged)
    removed = clones.do_remove_clone(chats.user("Ben"), row.pk)

    # then nothing is removed
    assert removed is None
    assert Bot.objects.filter(pk=row.pk).exists()
