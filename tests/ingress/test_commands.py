"""setwebhook and runbot: the two ways a bot's updates reach the router (SPEC W5)."""

from __future__ import annotations

import io
import threading

import pytest
from django.core.management import CommandError, call_command

from apps.bots import crypto
from apps.ingress import routing, services
from tests.conftest import wait_until

pytestmark = pytest.mark.django_db


def test_setwebhook_registers_secret_allowed_updates_and_max_connections(sandbox, make_bot):
    bot = make_bot()
    old_hash = bot.webhook_secret_hash
    out = io.StringIO()

    call_command("setwebhook", "--bot", f"@{bot.username}", "--url", "https://gm.example.com",
                 "--max-connections", "12", stdout=out)  # fmt: skip

    bot.refresh_from_db()
    (call,) = sandbox.calls(method="setWebhook")
    params = call["params"]
    assert params["url"] == "https://gm.example.com/api/webhooks/telegram"
    assert set(params["allowed_updates"]) == set(routing.ALLOWED_UPDATES)
    assert {"chat_member", "chat_join_request", "my_chat_member"} <= set(params["allowed_updates"])
    assert int(params["max_connections"]) == 12
    # a fresh secret, stored only as its hash, and never printed
    assert bot.webhook_secret_hash != old_hash
    assert crypto.secret_matches(params["secret_token"], bot.webhook_secret_hash)
    assert params["secret_token"] not in out.getvalue()
    info = sandbox.webhook(bot.username)
    assert info["url"] == "https://gm.example.com/api/webhooks/telegram"


def test_setwebhook_for_all_bots_and_with_drop_pending_updates(sandbox, make_bot):
    bots = [make_bot(), make_bot()]

    call_command("setwebhook", "--all", "--url", "https://gm.example.com",
                 "--drop-pending-updates", stdout=io.StringIO())  # fmt: skip

    calls = sandbox.calls(method="setWebhook")
    assert sorted(call["bot"] for call in calls) == sorted(bot.username for bot in bots)
    assert all(str(call["params"]["drop_pending_updates"]).lower() == "true" for call in calls)


def test_setwebhook_refused_by_telegram_keeps_the_working_secret(sandbox, make_bot):
    bot = make_bot()
    old_hash = bot.webhook_secret_hash
    sandbox.fault("setWebhook", error_code=400, description="Bad Request: bad webhook: "
                  "HTTPS url must be provided for webhook", times=1)  # fmt: skip

    with pytest.raises(CommandError, match="1 of 1 webhook"):
        call_command("setwebhook", "--bot", bot.username, "--url", "http://gm.example.com",
                     stdout=io.StringIO(), stderr=io.StringIO())  # fmt: skip

    bot.refresh_from_db()
    assert bot.webhook_secret_hash == old_hash


def test_setwebhook_needs_a_url(sandbox, make_bot, settings):
    bot = make_bot()
    settings.WEBHOOK_BASE_URL = ""
    with pytest.raises(CommandError, match="WEBHOOK_BASE_URL"):
        call_command("setwebhook", "--bot", bot.username)


def test_runbot_long_polls_and_queues_updates_like_the_webhook(sandbox, make_bot, redis_client):
    # given a bot without a webhook and a user who wrote to it
    bot = make_bot()
    ann = sandbox.create_user("Ann")
    sandbox.start(ann["id"], bot.username)
    sandbox.message(ann["id"], None, "/help", bot=bot.username)

    # when the bot is polled for a moment
    stop = threading.Event()
    poller = threading.Thread(target=services.poll_forever, args=(bot, stop), kwargs={"timeout": 1})
    poller.start()
    try:
        wait_until(lambda: redis_client.llen("high") == 2, timeout=10)
    finally:
        stop.set()
        poller.join(timeout=10)

    # then both updates were queued once on high, and the offset was confirmed to Telegram
    assert redis_client.llen("high") == 2
    offsets = [call["params"].get("offset") for call in sandbox.calls(method="getUpdates")]
    assert any(offset for offset in offsets)


def test_runbot_with_a_webhook_set_stops_with_a_sentence_suggesting_delete_webhook(
    sandbox, make_bot
):
    bot = make_bot()
    call_command("setwebhook", "--bot", bot.username, "--url", "https://gm.example.com",
                 stdout=io.StringIO())  # fmt: skip

    with pytest.raises(CommandError) as refused:
        call_command("runbot", "--bot", bot.username, stdout=io.StringIO())

    assert str(refused.value) == (
        f"@{bot.username} has a webhook set (https://gm.example.com/api/webhooks/telegram) and "
        "Telegram refuses getUpdates while it has one: run again with --delete-webhook to "
        "remove it and poll instead."
    )
    assert sandbox.calls(method="getUpdates") == []


@pytest.mark.parametrize("command", [["runbot"], ["setwebhook", "--url", "https://gm.example.com"]])
def test_an_unknown_bot_is_refused_with_how_to_add_one(sandbox, command):
    with pytest.raises(CommandError, match="no active bot @nobody_bot: add one with python"):
        call_command(*command, "--bot", "@nobody_bot")
