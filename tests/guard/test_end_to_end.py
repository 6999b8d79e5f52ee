"""The guard end to end: the sandbox delivers to gunicorn, a real worker on `high` enforces.

Real gunicorn, a real Celery worker, real Redis and PostgreSQL, the sandbox over HTTP.
"""

from __future__ import annotations

import pytest

from apps.guard import texts
from apps.ingress import services
from tests.conftest import wait_until
from tests.guard.conftest import GROUP_RIGHTS

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_join_write_verify_and_leave_through_the_webhook_and_a_worker(
    sandbox, make_bot, start_web, start_worker, redis_client
):
    # given a bot whose webhook points at the web process, a worker on high, and a channel
    bot = make_bot()
    web = start_web()
    services.set_webhook(bot, web.url, max_connections=8)
    start_worker(["high"], concurrency=2)
    owner = sandbox.create_user("Olga")["id"]
    group = sandbox.create_chat("supergroup", title="Fans", owner_id=owner)["id"]
    channel = sandbox.create_chat("channel", title="News", username="news", owner_id=owner)["id"]
    sandbox.add_bot(bot.username, group, status="administrator", **GROUP_RIGHTS)
    sandbox.add_bot(bot.username, channel, status="administrator")

    def sent(chat_id: int) -> list[dict]:
        calls = sandbox.calls(bot=bot.username, method="sendMessage", chat_id=chat_id)
        return [call for call in calls if call["status"] == 200]

    def status(user_id: int) -> str:
        return str(sandbox.member(group, user_id)["status"])

    # when the owner protects the group
    sandbox.message(owner, group, "/protect @news")
    wait_until(lambda: any(texts.PROTECT_DONE.split(".")[0] in c["params"]["text"]
                           for c in sent(group)))  # fmt: skip

    # and a non-subscriber joins: muted and warned
    nick = sandbox.create_user("Nick")["id"]
    sandbox.join(nick, group)
    wait_until(lambda: status(nick) == "restricted")
    warning = wait_until(lambda: [c for c in sent(group) if "reply_markup" in c["params"]])[0]

    # and an unchecked member who is not subscribed writes: deleted, muted, warned
    max_ = sandbox.create_user("Max")["id"]
    sandbox.set_member(group, max_, "member")
    wait_until(lambda: status(max_) == "restricted")  # the bot saw that join too
    sandbox.set_member(group, max_, "member")  # an admin lifts it; the bot acts once per minute
    message_id = sandbox.message(max_, group, "spam")["message_id"]
    wait_until(lambda: status(max_) == "restricted")
    deleted = sandbox.messages(group, include_deleted=True)
    assert next(m for m in deleted if m["message_id"] == message_id).get("deleted")

    # and Nick subscribes and presses verify: unmuted, the warning deleted
    sandbox.set_member(channel, nick, "member")
    sandbox.press(nick, group, warning["response"]["result"]["message_id"])
    wait_until(lambda: status(nick) == "member")
    wait_until(lambda: not any(m["message_id"] == warning["response"]["result"]["message_id"]
                               for m in sandbox.messages(group)))  # fmt: skip

    # and when Nick leaves the channel he is muted again
    sandbox.leave(nick, channel)
    wait_until(lambda: status(nick) == "restricted")
    assert sandbox.webhook(bot.username)["failures"] == []
