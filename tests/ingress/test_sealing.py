"""An update that carries a bot token is queued encrypted and opened by the task (SPEC D7: a
token never in Redis, logs or dead letters in plain text); any other update is queued as is."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from apps.bots.services import BotRef
from apps.ingress import publish, routing, sealing

pytestmark = pytest.mark.django_db

TOKEN = "7300000001:AAE" + "x" * 32  # shaped like @BotFather's, of no bot


def private_text(update_id: int, text: str) -> dict[str, Any]:
    user = {"id": 42, "is_bot": False, "first_name": "Ana"}
    return {
        "update_id": update_id,
        "message": {
            "message_id": 7,
            "date": 1_700_000_000,
            "text": text,
            "from": user,
            "chat": {"id": 42, "type": "private", "first_name": "Ana"},
        },
    }


def queued_args(redis_client) -> list[Any]:
    (raw,) = redis_client.lrange("high", 0, -1)
    body = json.loads(base64.b64decode(json.loads(raw)["body"]))
    assert isinstance(body[0], list)
    return body[0]


@pytest.mark.parametrize("text", [TOKEN, f"here it is: {TOKEN} thanks"])
def test_an_update_holding_a_token_is_queued_sealed_and_opens_to_itself(redis_client, text):
    # given an update whose text holds a bot token
    update = private_text(1, text)

    # when the webhook queues it
    publish.enqueue_update(BotRef(1, 2, "b"), update, routing.route(update))

    # then the queue holds no token, only the sealed update under its own id, which opens to it
    raw = b"".join(redis_client.lrange("high", 0, -1))
    assert TOKEN.encode() not in raw and b"Ana" not in raw
    bot_id, sealed = queued_args(redis_client)
    assert (bot_id, set(sealed), sealed["update_id"]) == (1, {"update_id", "sealed"}, 1)
    assert sealing.opened(sealed) == update


def test_any_other_update_is_queued_as_it_came(redis_client):
    # given an update with a time and a short "id:word" in it
    update = private_text(2, "see you at 12:30, ref 123456:abc")

    # when the webhook queues it
    publish.enqueue_update(BotRef(1, 2, "b"), update, routing.route(update))

    # then it is queued unchanged
    assert queued_args(redis_client) == [1, update]
    assert sealing.opened(update) is update
