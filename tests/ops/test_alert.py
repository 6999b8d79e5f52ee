"""Operators hear about a queue whose dead letters pile up (SPEC Q4)."""

from __future__ import annotations

import logging

import pytest

from tasks import normal
from tests.ops.test_dlq_endpoints import dead_letter

pytestmark = pytest.mark.django_db


@pytest.fixture
def ops_chat(sandbox, make_bot, monkeypatch):
    """An operators' group with the ops bot in it, named by OPS_CHAT_ID and OPS_BOT_USERNAME."""
    make_bot()  # another active bot, created first: the alert must not pick it
    ops_bot = make_bot("gm_ops_bot")
    chat = sandbox.create_chat("supergroup", title="GMBot operators")
    sandbox.add_bot(ops_bot.username, chat["id"])
    monkeypatch.setenv("OPS_CHAT_ID", str(chat["id"]))
    monkeypatch.setenv("OPS_BOT_USERNAME", "@gm_ops_bot")
    return chat["id"]


def test_more_than_ten_dead_letters_alert_once_an_hour(sandbox, ops_chat, redis_client, caplog):
    # given 11 dead letters on `low` and 10 on `high`
    for _ in range(11):
        dead_letter("low")
    for _ in range(10):
        dead_letter("high")

    # when the beat entry's task runs, twice
    with caplog.at_level(logging.ERROR, logger="apps.ops.services"):
        first = normal.alert_on_dead_letters()
        second = normal.alert_on_dead_letters()

    # then one ERROR line names low and its count, and the operators' chat got one message
    assert first == {"low": 11} and second == {}
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert errors == ["dead letters above threshold: queue=low count=11 threshold=10"]
    sent = sandbox.calls(method="sendMessage", chat_id=ops_chat)
    assert len(sent) == 1
    assert sent[0]["bot"] == "gm_ops_bot" and sent[0]["status"] == 200
    assert "11 dead letters in the low queue" in sent[0]["params"]["text"]


def test_without_an_ops_chat_the_alert_is_only_logged(redis_client, caplog, monkeypatch):
    monkeypatch.delenv("OPS_CHAT_ID", raising=False)
    for _ in range(11):
        dead_letter("normal")

    with caplog.at_level(logging.ERROR, logger="apps.ops.services"):
        assert normal.alert_on_dead_letters() == {"normal": 11}

    assert "queue=normal count=11" in caplog.text
