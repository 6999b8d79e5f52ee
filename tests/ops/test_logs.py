"""Logs (SPEC O3): JSON lines with the ids of what they are about, and never a token or a webhook
secret, in any process."""

from __future__ import annotations

import io
import json
import logging
import logging.config

import pytest
import requests
import structlog

from apps.bots.services import forget_cached_bots
from apps.ops.models import DeadLetter
from gmbot import logs
from tests.conftest import wait_until
from tests.factories import BotFactory

CANARY_ID = 7_100_000_777
# Shaped like a real token (35 characters after the colon), so the test is about real ones.
CANARY_TOKEN = f"{CANARY_ID}:AAHcanaryCanaryCANARYcanary0123456789"
SECRET = "webhook-secret-canary-for-the-log-test"


def deliver(web_url: str, sandbox, action: dict) -> None:
    ids = set(action["update_ids"])
    for entry in sandbox.updates():
        if entry["update_id"] in ids:
            answer = requests.post(
                f"{web_url}/api/webhooks/telegram", json=entry["update"], timeout=10,
                headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
            )  # fmt: skip
            assert answer.status_code == 200


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_no_line_of_any_process_holds_the_token_or_the_secret(sandbox, start_web, start_worker):
    # given a bot with a canary token and secret, served by gunicorn and a worker logging JSON at
    # DEBUG, the most they ever say
    forget_cached_bots()
    sandbox.create_bot(token=CANARY_TOKEN, username="gm_canary_bot")
    bot = BotFactory(telegram_id=CANARY_ID, username="gm_canary_bot", token=CANARY_TOKEN,
                     webhook_secret=SECRET)  # fmt: skip
    quiet = {"LOG_FORMAT": "json", "LOG_LEVEL": "DEBUG"}
    web = start_web(**quiet)
    worker = start_worker(["high"], **quiet)
    ann = sandbox.create_user("Ann")["id"]
    sandbox.start(ann, bot.username)

    # when a user's command is answered, and another's answer is refused for good
    deliver(web.url, sandbox, sandbox.message(ann, None, "/help", bot=bot.username))
    wait_until(lambda: sandbox.calls(method="sendMessage", chat_id=ann))
    sandbox.fault("sendMessage", error_code=400, description="Bad Request: chat not found",
                  times=1)  # fmt: skip
    deliver(web.url, sandbox, sandbox.message(ann, None, "/start", bot=bot.username))
    wait_until(lambda: DeadLetter.objects.exists())
    web.stop()
    worker.stop()

    # then neither process's log holds the token, its secret half or the webhook secret
    text = web.log.read_text() + worker.log.read_text()
    for secret in (CANARY_TOKEN, CANARY_TOKEN.split(":")[1], SECRET):
        assert secret not in text
    # and the worker's lines about the update are JSON carrying its ids
    lines = [json.loads(line) for line in worker.log.read_text().splitlines()
             if line.startswith("{")]  # fmt: skip
    about_updates = [line for line in lines if line.get("update_id") and line.get("task_id")]
    assert about_updates
    assert {line["bot_id"] for line in about_updates} == {bot.pk}
    assert {line["user_id"] for line in about_updates} == {ann}
    assert {"timestamp", "level", "logger", "event"} <= about_updates[0].keys()


def test_a_token_that_reaches_a_line_by_accident_is_hidden():
    # given the project's logging, in JSON
    stream = io.StringIO()
    config = logs.config("json", "INFO")
    config["handlers"]["console"]["stream"] = stream
    logging.config.dictConfig(config)
    try:
        # when a library logs a Bot API URL and one of ours binds an update's ids
        logging.getLogger("somelib").warning("GET %s failed", f"/bot{CANARY_TOKEN}/getMe")
        chat = {"id": -100123, "type": "supergroup"}
        logs.bind_update(
            3, {"update_id": 9, "callback_query": {"from": {"id": 42}, "message": {"chat": chat}}}
        )
        structlog.get_logger("gmbot.test").info("pressed")
    finally:
        structlog.contextvars.clear_contextvars()
        from django.conf import settings

        logging.config.dictConfig(settings.LOGGING)

    # then the token is hidden and the ids are fields of the line
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert CANARY_TOKEN not in stream.getvalue()
    assert first["event"] == "GET /bot<bot token>/getMe failed"
    assert second["event"] == "pressed"
    assert (second["bot_id"], second["update_id"], second["user_id"], second["group_id"]) == (
        3, 9, 42, -100123,
    )  # fmt: skip


@pytest.mark.parametrize("fmt", logs.FORMATS)
def test_a_logged_traceback_shows_where_it_failed_but_no_local_variable(fmt):
    # given the project's logging in either format, and a failure in a frame holding a secret
    stream = io.StringIO()
    config = logs.config(fmt, "INFO")
    config["handlers"]["console"]["stream"] = stream
    logging.config.dictConfig(config)

    def verify(secret: str) -> None:
        raise ValueError("the signature does not match")

    try:
        # when the failure is logged with its traceback
        try:
            verify(SECRET)
        except ValueError:
            logging.getLogger("gmbot.test").exception("webhook refused")
    finally:
        from django.conf import settings

        logging.config.dictConfig(settings.LOGGING)

    # then the line says what failed and where, and the secret held by the frame is not in it
    text = stream.getvalue()
    assert "ValueError: the signature does not match" in text
    assert "in verify" in text
    assert SECRET not in text
