#!/usr/bin/env python3
"""Growth benchmarks (issue 14, SPEC M2): the paced join-request queue.

    python bench/growth.py join                       # 5,000 requests in 60 s, approved at 10/s
    python bench/growth.py join --requests 1000 --rate 20

Activity and kicker benchmarks are in bench/growth_members.py.

`join`: the stack as the Procfile runs it, on 127.0.0.1: the sandbox with Telegram's limits on,
gunicorn, and the `high`, `normal` and `low` workers, against a database of its own
(gmbot_bench_growth) and Redis db 6, DEBUG off. A bot runs growth in one supergroup that takes
join requests, in the `growth` phase; GROWTH_JOIN_RATE is `--rate`. `--requests` users ask to
join, spread evenly over `--arrival` seconds, each a chat_join_request delivered to the
webhook. Printed: the time from the first request until every one is approved; the achieved
approval rate over the middle 80% of the approvals (by the sandbox's clock) against the
configured rate; requests lost (no row, or not approved) and approved twice (the sandbox's own
record); Bot API calls per request (approveChatJoinRequest, and every call).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from contextlib import ExitStack
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._stack import free_port, manage, production_env, spawn, start_gunicorn, wait  # noqa: E402
from sandbox.client import Sandbox  # noqa: E402

BENCH_DB = "gmbot_bench_growth"
BENCH_REDIS = "redis://127.0.0.1:6379/6"
TOKEN = "7866666666:bench-growth-token-sandbox-only"  # noqa: S105 - sandbox only
BOT = "bench_growth_bot"
OWNER = 7_866_000_001

SEED = """
from apps.bots.models import Bot
from apps.chats.models import Group
from apps.growth.models import GrowthProfile
bot = Bot.objects.get(username="{bot}")
bot.features = ["growth"]
bot.save()
group = Group.objects.create(bot=bot, chat_id={chat}, title="Growing")
GrowthProfile.objects.create(group=group, phase="growth")
print(group.pk)
"""
COUNT = """
from apps.growth.models import JoinRequest
from django.db.models import Count
print(dict(JoinRequest.objects.values_list("status").annotate(n=Count("pk")).order_by()))
"""


def sustained(times: list[float]) -> float:
    """Calls a second over the middle 80% of them (the first and last tenth left out)."""
    times = sorted(times)
    lo, hi = int(len(times) * 0.1), int(len(times) * 0.9) - 1
    if hi <= lo or times[hi] == times[lo]:
        return 0.0
    return (hi - lo) / (times[hi] - times[lo])


def arrive(sb: Sandbox, chat: int, users: list[int], seconds: float, threads: int = 4) -> float:
    """Every user asks to join, spread evenly over `seconds`; returns when the first asked."""
    started = time.monotonic()
    slots = [started + i * seconds / len(users) for i in range(len(users))]

    def run(part: int) -> None:
        for index in range(part, len(users), threads):
            time.sleep(max(0.0, slots[index] - time.monotonic()))
            answer = sb.join(users[index], chat)
            if answer["status"] != "requested":
                raise SystemExit(f"bench: user {users[index]} did not request: {answer}")

    workers = [threading.Thread(target=run, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return started


def join(args: argparse.Namespace) -> int:
    sandbox_port, web_port = free_port(), free_port()
    env = production_env(
        BENCH_DB, BENCH_REDIS,
        TELEGRAM_API_URL=f"http://127.0.0.1:{sandbox_port}",
        WEBHOOK_BASE_URL=f"http://127.0.0.1:{web_port}",
        GROWTH_JOIN_RATE=str(args.rate),
    )  # fmt: skip
    subprocess.run(["redis-cli", "-n", "6", "flushdb"], check=True, capture_output=True)
    subprocess.run([str(ROOT / "bin" / "services.sh"), BENCH_DB], check=True)
    subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc",
                    f"DROP DATABASE IF EXISTS {BENCH_DB}"], check=True)  # fmt: skip
    subprocess.run([str(ROOT / "bin" / "services.sh"), BENCH_DB], check=True)
    manage(env, "migrate", "--verbosity", "0")
    logs = Path(tempfile.mkdtemp(prefix="bench-growth-"))
    celery = [sys.executable, "-m", "celery", "-A", "gmbot", "worker", "--loglevel", "INFO"]
    with ExitStack() as stack:
        spawn(stack, env, logs, "sandbox",
              [sys.executable, "-m", "sandbox", "--host", "127.0.0.1", "--port",
               str(sandbox_port)])  # fmt: skip
        sb = Sandbox(f"http://127.0.0.1:{sandbox_port}", timeout=60)
        wait(sb.health, 30, "sandbox")
        sb.create_bot(TOKEN, BOT)
        manage(env, "addbot", "--token", "-", stdin=TOKEN + "\n")
        owner = sb.create_user("Owner", id=OWNER)["id"]
        chat = sb.create_chat("supergroup", title="Growing", join_by_request=True,
                              owner_id=owner)["id"]  # fmt: skip
        sb.set_member(chat, BOT, "administrator", can_invite_users=True)
        manage(env, "shell", stdin=SEED.format(bot=BOT, chat=chat))
        print(f"bench: {args.requests} users in the sandbox …", flush=True)
        users = [sb.create_user(f"U{n}")["id"] for n in range(args.requests)]
        web = start_gunicorn("gmbot.wsgi:application", env, web_port)
        stack.callback(web.terminate)
        # As the Procfile: high on 32 threads, normal and low prefork 2.
        queues = (("high", ["--pool", "threads", "--concurrency", "32"]),
                  ("normal", ["--concurrency", "2"]), ("low", ["--concurrency", "2"]))  # fmt: skip
        # INFO: a worker says when it is ready (no line per task: those are DEBUG).
        worker_env = dict(env, LOG_LEVEL="INFO")
        for queue, options in queues:
            spawn(stack, worker_env, logs, f"worker_{queue}",
                  [*celery, "-Q", queue, "-n", f"{queue}@bench", *options])  # fmt: skip
        wait(lambda: all(" ready." in (logs / f"worker_{q}.log").read_text() for q, _ in queues),
             60, "workers")  # fmt: skip
        manage(env, "setwebhook", "--bot", BOT, "--url", f"http://127.0.0.1:{web_port}",
               "--drop-pending-updates")  # fmt: skip
        first_call = sb.calls(bot=BOT)[-1]["seq"]

        print(f"bench: {args.requests} join requests over {args.arrival:.0f} s, "
              f"approved at {args.rate}/s …", flush=True)  # fmt: skip
        started = arrive(sb, chat, users, args.arrival)
        arrived = time.monotonic() - started
        expected = args.requests / args.rate

        def approved() -> list[dict[str, Any]] | None:
            calls = sb.calls(bot=BOT, method="approveChatJoinRequest", since=first_call)
            ok = [c for c in calls if c["status"] == 200]
            return ok if len(ok) >= args.requests else None

        ok = wait(approved, expected * 1.5 + args.arrival + 120, "the approvals", interval=1)
        elapsed = time.monotonic() - started
        time.sleep(3)  # anything that would come twice comes now
        calls = sb.calls(bot=BOT, since=first_call)
        approvals = [c for c in calls if c["method"] == "approveChatJoinRequest"]
        ok = [c for c in approvals if c["status"] == 200]
        per_user = Counter(int(c["params"]["user_id"]) for c in ok)
        members = {m["user"]["id"] for m in sb.members(chat) if m["status"] == "member"}
        lost = sum(1 for u in users if u not in members)
        rate = sustained([c["time"] for c in ok])
        rows = manage(env, "shell", stdin=COUNT).strip().splitlines()[-1]

        print(f"load average {os.getloadavg()[0]:.2f} (1 min) at the end")
        print(f"requests: {args.requests} arrived in {arrived:.1f} s; all approved "
              f"{elapsed:.1f} s after the first (at the rate alone: {expected:.1f} s)")  # fmt: skip
        print(f"approval rate (middle 80%): {rate:.2f}/s = {100 * rate / args.rate:.1f}% of "
              f"the configured {args.rate}/s")  # fmt: skip
        print(f"lost: {lost}; approved twice: {sum(1 for n in per_user.values() if n > 1)}; "
              f"rows by status: {rows}")  # fmt: skip
        print(f"Bot API calls per request: approveChatJoinRequest "
              f"{len(approvals) / args.requests:.3f} (429s: "
              f"{sum(1 for c in approvals if c['status'] == 429)}), every call "
              f"{len(calls) / args.requests:.3f}")  # fmt: skip
        print(f"logs: {logs}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("join", help="a burst of join requests in a growing group")
    run.add_argument("--requests", type=int, default=5000)
    run.add_argument("--arrival", type=float, default=60.0, help="seconds they arrive over")
    run.add_argument("--rate", type=float, default=10.0, help="GROWTH_JOIN_RATE, a second")
    args = parser.parse_args()
    return {"join": join}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
