#!/usr/bin/env python3
"""The points bot under load (issue: the bot in private chats), the stack as `make up` runs it.

    python bench/accounts.py [--users 10000] [--rate 100] [--bots 5] [--accounts 1000000]
                             [--skip-webhook] [--skip-grant]

Everything on 127.0.0.1, against a PostgreSQL database of its own (gmbot_bench_accounts, made
afresh each run) and Redis db 3.

1. Through the webhook: the sandbox (Telegram's limits on), gunicorn and the Procfile's
   `worker_high` (WORKER_HIGH_CONCURRENCY, 4); `--bots` bots run the accounts feature and share
   `--users` distinct users, each of whom sends /start, then presses «Who's live» once (30
   streamers live), `--rate` updates a second in all. A bot may send about 30 messages a second
   (Telegram; GMBot's budget is 25), so 100 updates a second that each answer with a message
   need at least four bots. Prints p50/p95/p99 from the webhook POST of each update to the
   sandbox receiving its answer (the welcome; the list), and the database queries per update,
   counted inside the worker (bench/_queries.py).
2. The daily grant over `--accounts` accounts: the service itself (one SQL statement per batch
   of 5,000), its first run of the day and a second one; duration and rows/s.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._stack import free_port, production_env, start_gunicorn  # noqa: E402
from sandbox.client import Sandbox  # noqa: E402

BENCH_DB = "gmbot_bench_accounts"
BENCH_REDIS_DB = 3
LIVE_ENTRIES = 30


def bench_env(sandbox_port: int, web_port: int) -> dict[str, str]:
    return production_env(
        BENCH_DB,
        f"redis://127.0.0.1:6379/{BENCH_REDIS_DB}",
        ENV_FILE="/dev/null",
        TELEGRAM_API_URL=f"http://127.0.0.1:{sandbox_port}",
        WEBHOOK_BASE_URL=f"http://127.0.0.1:{web_port}",
        CELERY_WORKER_INCLUDE="bench._queries",
    )


def fresh_database() -> None:
    subprocess.run(
        [
            "psql",
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-qc",
            f'drop database if exists "{BENCH_DB}"',
        ],
        check=True,
        capture_output=True,
    )
    subprocess.run([str(ROOT / "bin" / "services.sh"), BENCH_DB], check=True)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--verbosity", "0"], cwd=ROOT, check=True
    )


def wait_for(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise SystemExit(f"bench: {what} not done after {timeout:.0f}s")


def percentiles(values: list[float]) -> str:
    if len(values) < 2:
        return "n/a"
    cut = statistics.quantiles(values, n=100, method="inclusive")
    return f"p50 {cut[49]:.1f}  p95 {cut[94]:.1f}  p99 {cut[98]:.1f}  max {max(values):.1f}"


def add_bots(sb: Sandbox, count: int) -> list[Any]:
    """Bots that run the accounts feature, each with its webhook on the web process."""
    from apps.bots.services import do_add_bot
    from apps.ingress.services import register_for_updates

    rows = []
    for n in range(count):
        username = f"bench_points{n}_bot"
        token = f"{7_900_000_000 + n}:AA{'b' * 31}{n:02d}"
        sb.create_bot(token=token, username=username)
        row = do_add_bot(token, features=["accounts"]).bot
        problem = register_for_updates(row)
        if problem:
            raise SystemExit(f"bench: setWebhook for {username} refused: {problem}")
        rows.append(row)
    return rows


def streamers_live() -> None:
    from django.utils import timezone

    from apps.bots.models import Owner
    from apps.live.services import do_upsert_live

    owner, _ = Owner.objects.get_or_create(telegram_id=5_999_999_999)
    for n in range(LIVE_ENTRIES):
        do_upsert_live(
            owner,
            "twitch",
            f"streamer{n}",
            title=f"Stream {n}",
            url=f"https://twitch.tv/streamer{n}",
            is_live=True,
            live_since=timezone.now() - timedelta(minutes=n),
        )


def paced(actions: list[Any], rate: float) -> None:
    """Run the actions (each one update) at `rate` a second."""
    start = time.monotonic()
    for n, action in enumerate(actions):
        action()
        time.sleep(max(0.0, start + (n + 1) / rate - time.monotonic()))


def drained(sb: Sandbox, bots: list[Any], redis_url: str) -> bool:
    import redis

    if any(sb.webhook(bot.username)["pending_update_count"] for bot in bots):
        return False
    return int(redis.Redis.from_url(redis_url).llen("high")) == 0


def latencies(
    sb: Sandbox, bots: list[Any], expected: dict[int, tuple[str, int]]
) -> dict[str, list[float]]:
    """Milliseconds from each update's first successful webhook POST to its answer: for a
    /start the welcome, for a press the list, each the first such message to the user after it."""
    found: dict[str, list[float]] = {"start": [], "check_live": []}
    for bot in bots:
        posted: dict[int, float] = {}
        for attempt in sb.webhook(bot.username)["attempts"]:
            if attempt["error"] is None and attempt["update_id"] not in posted:
                posted[attempt["update_id"]] = attempt["time"] - attempt["duration_ms"] / 1000
        answers: dict[tuple[str, int], list[float]] = {}
        for call in sb.calls(bot=bot.username, method="sendMessage"):
            if call["status"] == 200:
                kind = "check_live" if call["params"]["text"].startswith("🔴") else "start"
                answers.setdefault((kind, int(call["chat_id"])), []).append(call["time"])
        for update_id, sent in posted.items():
            if update_id not in expected:
                continue
            kind, user = expected[update_id]
            after = [t for t in answers.get((kind, user), []) if t >= sent]
            if after:
                found[kind].append((min(after) - sent) * 1000)
    return found


def webhook_run(
    args: argparse.Namespace, env: dict[str, str], sandbox_port: int, web_port: int
) -> None:
    import redis

    from gmbot.celery import app as celery_app

    logs = Path(tempfile.mkdtemp(prefix="bench-accounts-"))
    processes: list[subprocess.Popen[bytes]] = []

    def start(name: str, command: list[str]) -> None:
        log = open(logs / f"{name}.log", "wb")  # noqa: SIM115 - lives as long as the process
        processes.append(
            subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        )

    try:
        start(
            "sandbox",
            [sys.executable, "-m", "sandbox", "--host", "127.0.0.1", "--port", str(sandbox_port)],
        )
        sb = Sandbox(f"http://127.0.0.1:{sandbox_port}", timeout=60)
        wait_for(lambda: _answers(sb.health), 30, "sandbox")
        processes.append(start_gunicorn("gmbot.wsgi:application", env, web_port))
        concurrency = env.get("WORKER_HIGH_CONCURRENCY", "4")
        start(
            "worker_high",
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "gmbot",
                "worker",
                "-Q",
                "high",
                "-n",
                "high@bench",
                "--concurrency",
                concurrency,
                "--loglevel",
                "WARNING",
            ],
        )
        bots = add_bots(sb, args.bots)
        streamers_live()
        print(f"bench: {args.users} users over {args.bots} bots …", flush=True)
        users = [int(sb.create_user(f"U{n}")["id"]) for n in range(args.users)]
        bot_of = {user: bots[n % len(bots)] for n, user in enumerate(users)}
        wait_for(
            lambda: _answers(lambda: celery_app.control.ping(["high@bench"], timeout=1)),
            60,
            "worker_high",
        )
        expected: dict[int, tuple[str, int]] = {}

        def start_bot(user: int) -> Any:
            def act() -> None:
                for update_id in sb.start(user, bot_of[user].username)["update_ids"]:
                    expected[update_id] = ("start", user)

            return act

        print(f"bench: /start from each user, {args.rate} updates/s …", flush=True)
        began = time.monotonic()
        paced([start_bot(user) for user in users], args.rate)
        wait_for(lambda: drained(sb, bots, env["REDIS_URL"]), 120, "the /start updates")
        menus: dict[int, int] = {}
        for bot in bots:
            for call in sb.calls(bot=bot.username, method="sendMessage"):
                if call["status"] == 200:
                    menus.setdefault(int(call["chat_id"]), call["response"]["result"]["message_id"])

        def press(user: int) -> Any:
            def act() -> None:
                name = bot_of[user].username
                for update_id in sb.press(user, user, menus[user], "ac:live", bot=name)[
                    "update_ids"
                ]:
                    expected[update_id] = ("check_live", user)

            return act

        print(f"bench: «Who's live» from each user, {args.rate} updates/s …", flush=True)
        paced([press(user) for user in users if user in menus], args.rate)
        wait_for(lambda: drained(sb, bots, env["REDIS_URL"]), 120, "the presses")
        time.sleep(3)  # the last answers leave
        elapsed = time.monotonic() - began
        found = latencies(sb, bots, expected)
        store = redis.Redis.from_url(env["REDIS_URL"], decode_responses=True)
        counters = {k: int(v) for k, v in store.hgetall("bench:queries").items()}
        print(
            f"updates: {len(expected)} in {elapsed:.0f} s; answers found: start "
            f"{len(found['start'])}/{len(users)}, check live {len(found['check_live'])}/"
            f"{len(menus)}"
        )
        for kind in ("start", "check_live"):
            print(f"latency webhook POST → answer, {kind} (ms): {percentiles(found[kind])}")
            jobs, queries = counters.get(f"{kind}:jobs", 0), counters.get(f"{kind}:queries", 0)
            updates = sum(1 for k, _ in expected.values() if k == kind)
            print(
                f"  DB queries per update: {queries / max(1, updates):.2f} "
                f"({jobs} jobs for {updates} updates: retries after a full budget run again)"
            )
        (logs / "counters.json").write_text(json.dumps(counters))
        print(f"logs: {logs}")
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


def _answers(check: Any) -> bool:
    try:
        return bool(check())
    except Exception:
        return False


def grant_run(accounts: int) -> None:
    from django.db import connection

    from apps.accounts.models import Account, LedgerEntry
    from apps.accounts.services import daily
    from apps.bots.models import Bot

    # A bot of its own for these accounts; it is never asked anything, so no token works.
    bot = Bot(telegram_id=7_999_999_999, username="bench_grant_bot", features=["accounts"])
    bot.set_token(f"{bot.telegram_id}:not-a-real-token")
    bot.rotate_webhook_secret()
    bot.save()
    print(f"bench: {accounts:,} accounts …", flush=True)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {Account._meta.db_table} (bot_id, telegram_id, username, first_name,"  # noqa: S608
            " last_name, language_code, started_at, blocked, points, updated_at)"
            " SELECT %s, 20000000000 + n, '', '', '', '', now(), false, 0, now()"
            " FROM generate_series(1, %s) AS n",
            [bot.pk, accounts],
        )
        cursor.execute(f"ANALYZE {Account._meta.db_table}")
    day = date(2026, 12, 1)
    load = os.getloadavg()[0]
    started = time.monotonic()
    first = daily.do_grant_daily_points(day)
    first_seconds = time.monotonic() - started
    started = time.monotonic()
    again = daily.do_grant_daily_points(day)
    again_seconds = time.monotonic() - started
    rows = LedgerEntry.objects.filter(reason=LedgerEntry.DAILY, reference=day.isoformat()).count()
    total = Account.objects.count()
    print(
        f"daily grant, first run of the day: {first.granted:,} of {total:,} accounts in "
        f"{first_seconds:.1f} s = {first.granted / first_seconds:,.0f} rows/s "
        f"(load average at its start {load:.1f})"
    )
    print(
        f"daily grant, second run the same day: {again.granted:,} granted in "
        f"{again_seconds:.1f} s; ledger rows for the day: {rows:,}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=100, help="updates per second")
    parser.add_argument("--bots", type=int, default=5)
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--skip-webhook", action="store_true")
    parser.add_argument("--skip-grant", action="store_true")
    args = parser.parse_args()
    sandbox_port, web_port = free_port(), free_port()
    env = bench_env(sandbox_port, web_port)
    # This process reads and writes the benchmark's database as the stack's processes do.
    os.environ.update(env)
    print(f"bench: load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}", flush=True)
    fresh_database()
    subprocess.run(
        ["redis-cli", "-n", str(BENCH_REDIS_DB), "flushdb"], check=True, capture_output=True
    )
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gmbot.settings")
    django.setup()
    if not args.skip_webhook:
        webhook_run(args, env, sandbox_port, web_port)
    if not args.skip_grant:
        grant_run(args.accounts)
    print(f"bench: load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
