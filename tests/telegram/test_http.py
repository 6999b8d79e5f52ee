"""The HTTP under the Bot API calls (apps/telegram/http.py) puts on the wire what requests would."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
import requests
import urllib3
from telebot import TeleBot

from apps.bots.models import Bot
from apps.telegram import http
from tests.telegram.test_errors import started_user

pytestmark = pytest.mark.django_db

PARAMS = {
    "chat_id": -1001,
    "text": "héllo & goodbye?=",
    "disable_notification": True,
    "reply_markup": json.dumps({"inline_keyboard": [[{"text": "Join", "url": "https://t.me/x"}]]}),
    "message_thread_id": None,
    "allowed_updates": ["message", "chat_member"],
}


def test_the_query_string_is_the_one_requests_builds() -> None:
    url = "https://api.telegram.org/bot1:x/sendMessage"
    theirs = requests.Request("POST", url, params=PARAMS).prepare().url

    assert f"{url}?{http._encode(PARAMS)}" == theirs
    assert "message_thread_id" not in theirs  # None is dropped


def test_an_upload_reaches_the_api_as_multipart(sandbox: Any, bot: Bot, telebot: TeleBot) -> None:
    user = started_user(sandbox, bot)
    photo = io.BytesIO(b"\x89PNG" + b"\0" * 2000)
    photo.name = "/tmp/cat.png"

    sent = telebot.send_photo(user, photo, caption="a cat")

    assert sent.caption == "a cat" and sent.photo
    call = sandbox.calls(method="sendPhoto")[-1]
    assert call["params"]["photo"] == {"file_name": "cat.png", "size": 2004}


def test_an_answer_reads_like_a_requests_response() -> None:
    answer = http.Answer(400, b'{"ok":false,"description":"Bad Request: chat not found"}')

    assert answer.status_code == 400
    assert answer.json()["description"] == "Bad Request: chat not found"
    assert "chat not found" in answer.text


def test_the_environments_proxy_for_the_bot_api_is_read_once_as_requests_would(
    monkeypatch: Any, settings: Any
) -> None:
    settings.TELEGRAM_API_URL = "https://api.telegram.org"
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("NO_PROXY", "localhost")
    try:
        http.reset()
        manager = http._manager()

        assert http._manager() is manager  # once per process
        assert isinstance(manager, urllib3.ProxyManager)
        assert str(manager.proxy) == "http://proxy.internal:3128"
        monkeypatch.setenv("NO_PROXY", "api.telegram.org")
        http.reset()
        assert not isinstance(http._manager(), urllib3.ProxyManager)
    finally:
        http.reset()
