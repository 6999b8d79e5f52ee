"""An update that carries a bot token travels sealed: encrypted from the webhook to the worker.

Someone cloning a bot sends its token in a private message (apps/accounts, /clone). Queued as it
came, that update would sit in plain text in the broker (the queue, `unacked` while it runs, a
retry's countdown) and in a dead letter's arguments if its job failed. So before it is queued
(the webhook and runbot alike, `publish.enqueue_update`) an update whose JSON holds something
shaped like a token (apps/bots' TOKEN_IN_TEXT) is replaced by
`{"update_id": …, "sealed": <Fernet ciphertext of the whole update>}`, encrypted with the bot
token keys (BOT_TOKEN_KEYS), and the task opens it just before dispatch (tasks.high). Retries,
hops, dead letters and their replays, Flower and the logs only ever see the sealed form; what
routing and dedup need (the kind, the bot, the update id) is decided before sealing.

The check is one regular expression over the update's JSON, a few microseconds; nearly every
update passes it unchanged.
"""

from __future__ import annotations

import json
from typing import Any

from apps.bots import crypto
from apps.bots.services import TOKEN_IN_TEXT

SEALED = "sealed"


def sealed(update: dict[str, Any]) -> dict[str, Any]:
    """The update as it may be queued: itself, or sealed when it holds a token."""
    text = json.dumps(update, separators=(",", ":"))
    if TOKEN_IN_TEXT.search(text) is None:
        return update
    return {"update_id": update["update_id"], SEALED: crypto.encrypt_token(text)}


def opened(update: dict[str, Any]) -> dict[str, Any]:
    """The update as it came from Telegram, whether it was queued sealed or not."""
    ciphertext = update.get(SEALED)
    if ciphertext is None:
        return update
    value: dict[str, Any] = json.loads(crypto.decrypt_token(ciphertext))
    return value
