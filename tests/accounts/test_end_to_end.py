"""The accounts feature through real processes: the webhook (gunicorn) or its publish step, real
Celery workers, real Redis and PostgreSQL, the sandbox over HTTP.

- twenty presses at once on a balance of five (the workers' children and, apart from any
  ordering of one chat's jobs, threads charging at once);
- /clone across a worker restart, the clone then answering in its own private chat, and its
  token (a canary) in no log line, no Redis key or value, no answer;
- a job that fails while carrying a token: its dead letter holds it sealed, and its replay works.
"""

from __future__ import annotations

import contextlib
import json
import threading
from pathlib import Path

import pytest
from django.db import connection

from apps.accounts import keyboards, texts
from apps.accounts.models import Account, Clone, LedgerEntry
from apps.accounts.services import live
from apps.bots.context import context_for, ref_of
from apps.bots.models import Bot
from apps.ingress import publish, routing, services
from apps.ops.models import DeadLetter
from apps.ops.services import ReplaySelection, do_replay
from tests.accounts.conftest import PrivateChats, bot_token
from tests.conftest import wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def chats(sandbox, make_bot) -> PrivateChats:
    """The bot, driven in this process for what a test only needs as its starting point; there
    is no test transaction here, so queued jobs go to Redis when their transaction commits."""
    return PrivateChats(
        sandbox, make_bot(features=["accounts"]), lambda **_: contextlib.nullcontext()
    )


def queue_fresh_updates(chats: PrivateChats) -> list[int]:
    """Hand the sandbox's new updates to the webhook's own publish step (claim, seal, push);
    returns their ids."""
    bot = chats.bot
    fresh = chats.sandbox.updates(bot=bot.username, since=chats.seen.get(bot.username, 0))
    for item in fresh:
        chats.seen[bot.username] = max(chats.seen.get(bot.username, 0), item["update_id"])
        publish.enqueue_update(ref_of(bot), item["update"], routing.route(item["update"]))
    return [item["update_id"] for item in fresh]


def all_done(redis_client, bot: Bot, update_ids: list[int]) -> bool:
    """Every one of these updates ran to its end (dispatch's done-mark)."""
    return all(redis_client.exists(f"gmbot:done:{bot.pk}:{u}") for u in update_ids)


def answered(chats: PrivateChats, user: int) -> list[str]:
    """Every message the bot shows the user now, with edits."""
    return [m.get("text", "") for m in chats.sandbox.messages(user, bot=chats.bot.username)]


def five_points_left(chats: PrivateChats) -> tuple[int, int]:
    """Ana, who spent 5 of her 10 points on checks, and the menu she pressed."""
    ana = chats.user("Ana")
    chats.start(ana)
    menu = chats.last(ana)["message_id"]
    for _ in range(5):
        chats.press(ana, menu, keyboards.LIVE)
    return ana, menu


def test_twenty_presses_at_once_on_five_points_charge_five_and_show_the_list_five_times(
    chats, live_now, start_worker, redis_client, sandbox
):
    # given a streamer live, Ana with 5 points left after 5 checks, and a worker of 4 children
    live_now(1)
    ana, menu = five_points_left(chats)
    # (Telegram's one message a second per private chat is the budgets' business, tested in
    # tests/telegram; here it would only make the lists wait their turn)
    sandbox.set_limits(enabled=False)
    start_worker(["high"], concurrency=4, TELEGRAM_PRIVATE_LIMIT="1000")
    since = chats.sandbox.calls()[-1]["seq"]

    # when she presses «Who's live» twenty times at once
    for _ in range(20):
        chats.sandbox.press(ana, ana, menu, keyboards.LIVE, bot=chats.bot.username)
    presses = queue_fresh_updates(chats)
    assert len(presses) == 20
    wait_until(lambda: all_done(redis_client, chats.bot, presses), 60)

    # then exactly five were charged and shown the list, fifteen told they are out of points
    account = chats.account(ana)
    assert account.points == 0
    assert account.ledger.filter(reason=LedgerEntry.CHECK_LIVE).count() == 10
    sent = chats.sandbox.calls(method="sendMessage", chat_id=ana, since=since)
    assert len([c for c in sent if c["params"]["text"].startswith("🔴 Live now")]) == 5
    alerts = [
        a["params"].get("text")
        for a in chats.sandbox.calls(method="answerCallbackQuery", since=since)
        if a["status"] == 200
    ]
    assert len(alerts) == 20
    assert alerts.count(texts.NO_POINTS_ALERT) == 15


def test_twenty_threads_checking_at_once_on_five_points_take_exactly_five(chats, live_now):
    # given Ana with 5 points left, and twenty threads with a connection each
    live_now(1)
    ana, _ = five_points_left(chats)
    bot = context_for(chats.bot.pk)
    assert bot is not None
    barrier = threading.Barrier(20)
    outcomes: list[live.Outcome] = []

    def check(n: int) -> None:
        barrier.wait()
        try:
            outcomes.append(live.do_check_live(bot, ana, f"thread:{n}").outcome)
        finally:
            connection.close()

    # when all twenty check who is live at the same moment
    threads = [threading.Thread(target=check, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # then five were shown the list and fifteen found no point; the balance is 0, never below
    assert outcomes.count(live.Outcome.SHOWN) == 5
    assert outcomes.count(live.Outcome.NO_POINTS) == 15
    assert Account.objects.get(telegram_id=ana).points == 0
    assert LedgerEntry.objects.filter(reason=LedgerEntry.CHECK_LIVE).count() == 10


def redis_holds(redis_client, needle: bytes) -> list[str]:
    """Every Redis key whose name or value holds `needle`."""
    found = []
    for key in redis_client.scan_iter(count=1000):
        kind = redis_client.type(key)
        if kind == b"string":
            values = [redis_client.get(key) or b""]
        elif kind == b"list":
            values = redis_client.lrange(key, 0, -1)
        elif kind == b"hash":
            values = [b"%s=%s" % pair for pair in redis_client.hgetall(key).items()]
        elif kind == b"set":
            values = list(redis_client.smembers(key))
        else:
            values = [member for member, _ in redis_client.zrange(key, 0, -1, withscores=True)]
        if needle in key or any(needle in value for value in values):
            found.append(key.decode())
    return found


def test_clone_survives_a_worker_restart_answers_in_its_own_chat_and_keeps_no_token(
    chats, start_web, start_worker, redis_client, tmp_path: Path
):
    # given the bot's webhook on a real web process, a worker, and Ana at /clone's token step
    web = start_web()
    services.set_webhook(chats.bot, web.url, max_connections=8)
    first = start_worker(["high"], WEBHOOK_BASE_URL=web.url)
    ana = chats.user("Ana")
    chats.sandbox.start(ana, chats.bot.username)
    wait_until(lambda: any(t.startswith("Welcome, Ana") for t in answered(chats, ana)))
    chats.sandbox.message(ana, None, "/clone", bot=chats.bot.username)
    picker = wait_until(
        lambda: [
            m
            for m in chats.sandbox.messages(ana, bot=chats.bot.username)
            if m.get("text", "").startswith("Let's make a bot")
        ]
    )[0]
    for data in (keyboards.CHOOSE + "accounts", keyboards.CONTINUE):
        chats.sandbox.press(ana, ana, picker["message_id"], data, bot=chats.bot.username)
    wait_until(lambda: texts.CLONE_ASK_TOKEN in answered(chats, ana))

    # when the worker stops, Ana sends her new bot's token (the canary) meanwhile, and another
    # worker starts
    first.stop()
    canary = bot_token(7_300_000_009)
    chats.sandbox.create_bot(token=canary, username="ana_live_bot")
    sent = chats.sandbox.message(ana, None, f"my token: {canary}", bot=chats.bot.username)
    wait_until(
        lambda: sent["update_ids"][0] in chats.sandbox.webhook(chats.bot.username)["deliveries"]
    )
    queued = redis_client.lrange("high", 0, -1)
    start_worker(["high"], WEBHOOK_BASE_URL=web.url)
    ready = texts.CLONE_READY.format(bot="ana_live_bot", features="Accounts")
    wait_until(lambda: ready in answered(chats, ana), 30)

    # then the clone is hers and answers in its own private chat, through its own webhook
    clone = Clone.objects.select_related("bot__owner").get()
    assert (clone.bot.username, clone.bot.owner.telegram_id) == ("ana_live_bot", ana)
    chats.sandbox.start(ana, "ana_live_bot")
    welcome = wait_until(
        lambda: [
            m["text"]
            for m in chats.sandbox.messages(ana, bot="ana_live_bot")
            if m.get("text", "").startswith("Welcome, Ana")
        ]
    )
    assert "https://t.me/ana_live_bot?start=ref_" in welcome[0]
    assert chats.sandbox.webhook("ana_live_bot")["failures"] == []

    # and the token was queued sealed, and is in no log line, Redis key or value, answer or
    # dead letter
    assert len(queued) == 1 and canary.encode() not in queued[0]
    logs = {path.name: path.read_text(errors="replace") for path in tmp_path.glob("*.log")}
    assert {"web-0.log", "worker-0.log", "worker-1.log"} <= set(logs)
    assert [name for name, text in logs.items() if canary in text] == []
    assert redis_holds(redis_client, canary.encode()) == []
    shown = [
        c["params"].get("text", "")
        for bot in (chats.bot.username, "ana_live_bot")
        for c in chats.sandbox.calls(bot=bot)
        if c["method"] in ("sendMessage", "editMessageText")
    ]
    assert [text for text in shown if canary in text] == []
    assert not DeadLetter.objects.exists()


def test_a_failing_job_carrying_a_token_is_dead_lettered_sealed_and_replays(
    chats, start_worker, sandbox
):
    # given Ana at /clone's token step, and deleteMessage failing for the bot
    ana = chats.user("Ana")
    chats.start(ana)
    chats.say(ana, "/clone")
    picker = chats.last(ana)["message_id"]
    chats.press(ana, picker, keyboards.CHOOSE + "accounts")
    chats.press(ana, picker, keyboards.CONTINUE)
    start_worker(["high"], TASK_RETRY_BACKOFF_BASE="0.05", TASK_RETRY_BACKOFF_CAP="0.2")
    sandbox.fault(
        "deleteMessage", error_code=500, description="Internal Server Error", bot=chats.bot.username
    )
    canary = bot_token(7_300_000_010)
    sandbox.create_bot(token=canary, username="ana_live_bot")

    # when her token's message arrives and its job fails every try
    sandbox.message(ana, None, canary, bot=chats.bot.username)
    queue_fresh_updates(chats)
    letter = wait_until(lambda: DeadLetter.objects.first(), 30)

    # then the dead letter holds the update sealed: no token in any field
    stored = json.dumps(
        [
            letter.args,
            letter.kwargs,
            letter.original_json,
            letter.argsrepr,
            letter.description,
            letter.traceback,
        ]
    )
    assert canary not in stored
    assert set(letter.args[1]) == {"update_id", "sealed"}

    # and replayed once deleteMessage works, the job opens it and the clone is made
    sandbox.clear_faults()
    assert do_replay("high", ReplaySelection(all=True)).replayed
    wait_until(lambda: Clone.objects.filter(bot__username="ana_live_bot").exists(), 30)
