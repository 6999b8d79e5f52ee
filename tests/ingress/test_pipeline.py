"""End to end: the sandbox delivers to the web process, a worker answers through the client.

Real gunicorn, real Celery workers, real Redis and PostgreSQL, the sandbox over HTTP.
"""

from __future__ import annotations

import base64
import json
import os
import signal
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from apps.guard import texts
from apps.ingress import publish, services
from gmbot.celery import app as celery_app
from tests.conftest import wait_until
from tests.data import UPDATES_DIR

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

UPDATES = UPDATES_DIR
WEBHOOK = "/api/webhooks/telegram"


def answers_to(sandbox, user_id: int) -> list[dict]:
    return [
        call
        for call in sandbox.calls(method="sendMessage", chat_id=user_id)
        if call["status"] == 200
    ]


def help_update(update_id: int, user_id: int) -> dict:
    user = {"id": user_id, "is_bot": False, "first_name": f"User {user_id}"}
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id, "date": 1_700_000_000, "text": "/help", "from": user,
            "chat": {"id": user_id, "type": "private", "first_name": user["first_name"]},
            "entities": [{"type": "bot_command", "offset": 0, "length": 5}],
        },
    }  # fmt: skip


@pytest.fixture
def stack(sandbox, make_bot, start_web, start_worker):
    """A bot whose webhook points at a running web process, and a worker on `high`."""
    bot = make_bot()
    web = start_web()
    webhook = services.set_webhook(bot, web.url, max_connections=8)
    # One private chat may get one message a second; these tests answer the same user twice in
    # a row, which is the budget's business (tests/telegram), not theirs.
    worker = start_worker(["high"], concurrency=2, TELEGRAM_PRIVATE_WINDOW_MS="50")
    return bot, web, webhook, worker


def test_help_in_a_private_chat_is_answered_through_webhook_queue_and_worker(sandbox, stack):
    bot, *_ = stack
    ann = sandbox.create_user("Ann")

    sandbox.start(ann["id"], bot.username)
    sandbox.message(ann["id"], None, "/help", bot=bot.username)

    sent = wait_until(
        lambda: len(answers_to(sandbox, ann["id"])) == 2 and answers_to(sandbox, ann["id"])
    )
    assert [call["params"]["text"] for call in sent] == [texts.HELP, texts.HELP]
    info = sandbox.webhook(bot.username)
    assert info["pending_update_count"] == 0


def test_an_update_posted_three_times_concurrently_is_answered_once(sandbox, stack, redis_client):
    bot, web, webhook, _ = stack
    users = [sandbox.create_user(f"U{n}") for n in range(15)]
    for user in users:
        sandbox.start(user["id"], bot.username)
    wait_until(lambda: all(answers_to(sandbox, user["id"]) for user in users))

    updates = [help_update(10_000 + n, user["id"]) for n, user in enumerate(users)]
    headers = {"X-Telegram-Bot-Api-Secret-Token": webhook.secret}

    def post(update: dict) -> int:
        return requests.post(
            f"{web.url}{WEBHOOK}", json=update, headers=headers, timeout=10
        ).status_code

    with ThreadPoolExecutor(max_workers=12) as pool:
        statuses = list(pool.map(post, [u for u in updates for _ in range(3)]))

    assert statuses == [200] * len(updates) * 3
    wait_until(lambda: all(len(answers_to(sandbox, u["id"])) == 2 for u in users))
    wait_until(lambda: not redis_client.llen("high"), timeout=5)
    assert all(len(answers_to(sandbox, user["id"])) == 2 for user in users)


def test_with_redis_down_the_webhook_answers_503_and_redelivered_updates_run_once(
    sandbox, make_bot, start_web, start_worker, spare_redis
):
    # given web and worker on a Redis of the test's own, and quick redelivery by the sandbox
    sandbox.set_limits(webhook_backoff_initial=0.2, webhook_backoff_cap=0.5, webhook_timeout=3)
    redis_env = {"REDIS_URL": spare_redis.url, "CELERY_BROKER_URL": spare_redis.url,
                 "CELERY_RESULT_BACKEND": spare_redis.url}  # fmt: skip
    bot = make_bot()
    web = start_web(**redis_env)
    services.set_webhook(bot, web.url, max_connections=4)
    start_worker(["high"], concurrency=2, **redis_env)
    users = [sandbox.create_user(f"R{n}") for n in range(5)]
    for user in users:
        sandbox.start(user["id"], bot.username)
    wait_until(lambda: all(len(answers_to(sandbox, u["id"])) == 1 for u in users))

    # when Redis stops and the users write
    spare_redis.stop()
    for user in users:
        sandbox.message(user["id"], None, "/help", bot=bot.username)

    # then the webhook refuses with 503, never 200, and nothing is answered
    info = wait_until(lambda: len((i := sandbox.webhook(bot.username))["failures"]) >= 3 and i)
    assert "503" in info["last_error_message"]
    assert all(len(answers_to(sandbox, u["id"])) == 1 for u in users)

    # and once Redis is back, every redelivered update is handled exactly once
    spare_redis.start()
    wait_until(lambda: all(len(answers_to(sandbox, u["id"])) == 2 for u in users), timeout=40)
    wait_until(lambda: sandbox.webhook(bot.username)["pending_update_count"] == 0)
    assert all(len(answers_to(sandbox, u["id"])) == 2 for u in users)


def test_a_worker_killed_mid_task_runs_it_again_and_answers_once(sandbox, stack):
    bot, _, _, worker = stack
    ann = sandbox.create_user("Ann")
    sandbox.start(ann["id"], bot.username)
    wait_until(lambda: answers_to(sandbox, ann["id"]))
    # the next sendMessage hangs for 3 s and then fails: the task is mid-call, no message yet
    sandbox.fault("sendMessage", error_code=500, description="Internal Server Error",
                  delay_ms=3000, times=1)  # fmt: skip

    sandbox.message(ann["id"], None, "/help", bot=bot.username)
    wait_until(lambda: sandbox.webhook(bot.username)["pending_update_count"] == 0)
    busy = wait_until(lambda: [p for p in worker.child_pids() if _in_task(p)] or None, timeout=5)
    os.kill(busy[0], signal.SIGKILL)

    wait_until(lambda: len(answers_to(sandbox, ann["id"])) == 2, timeout=30)
    log = worker.log.read_text()
    assert "SIGKILL" in log or "WorkerLostError" in log
    # it ran again because the worker was lost, not as a retry of a failure
    assert "Retry in" not in log and "retrying in" not in log
    assert len(answers_to(sandbox, ann["id"])) == 2


def _in_task(pid: int) -> bool:
    # a busy child holds a connection to the sandbox's port while the call hangs
    try:
        return any(os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:")
                   for fd in os.listdir(f"/proc/{pid}/fd"))  # fmt: skip
    except OSError:
        return False


def test_the_one_round_trip_message_is_the_same_celery_message_apply_async_sends(redis_client):
    # given what Celery's own apply_async pushes for the task
    celery_app.send_task("tasks.high.process_update", args=[1, {"update_id": 1}], queue="high")
    theirs = json.loads(redis_client.rpop("high"))

    # when the webhook builds its message
    args = [1, {"update_id": 1}]
    ours = json.loads(
        publish.celery_message("tasks.high.process_update", "high", args, "(bot=1, update_id=1)")
    )

    # then the envelope, properties and headers have the same shape, and the body the same args
    assert ours.keys() == theirs.keys()
    assert ours["properties"].keys() == theirs["properties"].keys()
    assert ours["properties"]["delivery_info"] == theirs["properties"]["delivery_info"]
    assert ours["headers"].keys() == theirs["headers"].keys()
    assert ours["headers"]["task"] == theirs["headers"]["task"]
    assert json.loads(base64.b64decode(ours["body"]))[0] == [1, {"update_id": 1}]
    assert json.loads(base64.b64decode(ours["body"])) == json.loads(
        base64.b64decode(theirs["body"])
    )


def test_every_real_payload_is_handled_without_a_worker_error(
    sandbox, make_bot, start_web, start_worker, redis_client
):
    # given the people of the payloads who started the bot exist in the sandbox
    bot = make_bot()
    starters = {996202131, 714862471}
    for user_id in starters:
        sandbox.create_user(f"P{user_id}", id=user_id)
        sandbox.start(user_id, bot.username)
    web = start_web()
    webhook = services.set_webhook(bot, web.url, max_connections=4, drop_pending_updates=True)
    worker = start_worker(["high"], concurrency=2)
    headers = {"X-Telegram-Bot-Api-Secret-Token": webhook.secret}

    # when every payload arrives at the webhook
    for path in sorted(UPDATES.glob("*.json")):
        answer = requests.post(f"{web.url}{WEBHOOK}", data=path.read_bytes(), headers=headers,
                               timeout=10)  # fmt: skip
        assert answer.status_code == 200, path.name

    # then the two private /start commands are answered and no task failed
    wait_until(lambda: all(answers_to(sandbox, user_id) for user_id in starters))
    wait_until(lambda: redis_client.llen("high") == 0)
    wait_until(lambda: "succeeded" in worker.log.read_text())
    log = worker.log.read_text()
    assert "ERROR" not in log and "Traceback" not in log, log[-3000:]
