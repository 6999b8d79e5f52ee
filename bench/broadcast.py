#!/usr/bin/env python3
"""Broadcast throughput and what it leaves for interactive work (issue: broadcasts, SPEC B2, B8).

    python bench/broadcast.py                      # 3,000 groups at a bulk cap of 25/s
    python bench/broadcast.py --groups 10000       # the 10,000 the issue asks for once
    python bench/broadcast.py --paid               # paid broadcast, paid rate 1,000/s

The stack as the Procfile runs it, on 127.0.0.1: the sandbox with Telegram's limits on (30/s per
bot, 20/min per group; 1,000/s for paid messages), gunicorn, and the `high`, `normal` and `low`
workers, against a database of its own (gmbot_bench_broadcast) and Redis db 2, DEBUG off. A bot
runs the guard (which answers /start) and broadcasts; `--groups` groups in the sandbox and in the
database.

Free run: first `--stream-seconds` of /start commands alone (`--stream-rate` a second, each from
a new user, through the webhook), then a broadcast to every group through `POST /api/send_messages`
with the same stream beside it until it is done. Printed: the sustained send rate over the middle
80% of the broadcast (by the sandbox's clock) against the cap, 429s, chats that got two
messages, deliveries accounted for; the /start p50/p95 from webhook POST to the answer's
sendMessage, without and with the broadcast.

Paid run: the bot allows paid broadcasting at 1,000/s and has Stars; the same broadcast with
`paid`, no stream. Printed: the sustained rate, and the CPU seconds each process used, which say
what limits it on this machine.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._stack import free_port, manage, production_env, spawn, start_gunicorn, wait  # noqa: E402
from sandbox.client import Sandbox  # noqa: E402

BENCH_DB = "gmbot_bench_broadcast"
BENCH_REDIS = "redis://127.0.0.1:6379/2"
TOKEN = "7877777777:bench-broadcast-token-sandbox-only"  # noqa: S105 - sandbox only
BOT = "bench_broadcast_bot"
OWNER = 7_877_000_001

SEED = """
from apps.bots import crypto
from apps.bots.models import Bot, Owner
from apps.broadcasts.models import BroadcastBot
from apps.chats.models import Group
from apps.live.models import LiveEntry
owner, _ = Owner.objects.get_or_create(telegram_id={owner}, defaults={{"username": "bench"}})
bot = Bot.objects.get(username="{bot}")
bot.owner = owner
bot.features = ["guard", "broadcasts"]
bot.save()
BroadcastBot.objects.update_or_create(
    bot=bot, defaults={{"allow_paid_broadcast": True, "paid_rate": {paid_rate}}})
chats = {chats}
Group.objects.bulk_create(
    [Group(bot=bot, owner=owner, chat_id=c, title=f"Bench {{n}}") for n, c in enumerate(chats)],
    batch_size=2000)
live = LiveEntry.objects.create(owner=owner, platform="tiktok", handle="bench",
                                url="https://www.tiktok.com/@bench/live", is_live=True)
print(live.pk)
"""


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its children (its workers), from /proc."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    for each in pids:
        try:
            fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


class Stream:
    """/start from new users at `rate` a second, in a thread, until stopped; remembers which
    update each one was."""

    def __init__(self, sb: Sandbox, users: list[int], rate: float) -> None:
        self.sb, self.users, self.rate = sb, users, rate
        self.sent: dict[int, int] = {}  # update id → user
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> Stream:
        self._thread.start()
        return self

    def start_for(self, seconds: float) -> dict[int, int]:
        self.start()
        time.sleep(seconds)
        return self.stop()

    def stop(self) -> dict[int, int]:
        self._stop.set()
        self._thread.join()
        return self.sent

    def _run(self) -> None:
        started = time.monotonic()
        n = 0
        while not self._stop.is_set() and self.users:
            user = self.users.pop()
            for update_id in self.sb.start(user, BOT)["update_ids"]:
                self.sent[update_id] = user
            n += 1
            self._stop.wait(max(0.0, started + n / self.rate - time.monotonic()))


def start_latencies(sb: Sandbox, sent: dict[int, int]) -> list[float]:
    """Webhook POST of each /start → the sandbox receiving the answer (sendMessage to the user)."""
    posted: dict[int, float] = {}
    for attempt in sb.webhook(BOT)["attempts"]:
        if attempt["error"] is None and attempt["update_id"] in sent:
            posted.setdefault(attempt["update_id"], attempt["time"] - attempt["duration_ms"] / 1e3)
    found = []
    for update_id, user in sent.items():
        answers = [c["time"] for c in sb.calls(bot=BOT, method="sendMessage", chat_id=user)]
        if answers and update_id in posted:
            found.append((min(answers) - posted[update_id]) * 1000)
    return found


def pct(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else 0


def sustained(times: list[float]) -> float:
    """Messages a second over the middle 80% of the sends (the first and last tenth left out)."""
    times = sorted(times)
    lo, hi = int(len(times) * 0.1), int(len(times) * 0.9) - 1
    if hi <= lo or times[hi] == times[lo]:
        return 0.0
    return (hi - lo) / (times[hi] - times[lo])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--groups", type=int, default=3000)
    parser.add_argument("--cap", type=int, default=25, help="bulk messages a second (free)")
    parser.add_argument("--paid", action="store_true", help="a paid broadcast at --paid-rate")
    parser.add_argument("--paid-rate", type=int, default=1000)
    parser.add_argument("--stream-rate", type=float, default=3.0, help="/start a second")
    parser.add_argument("--stream-seconds", type=int, default=30, help="without the broadcast")
    args = parser.parse_args()

    sandbox_port, web_port = free_port(), free_port()
    env = production_env(
        BENCH_DB, BENCH_REDIS,
        TELEGRAM_API_URL=f"http://127.0.0.1:{sandbox_port}",
        WEBHOOK_BASE_URL=f"http://127.0.0.1:{web_port}",
        API_THROTTLE_RATE="",
        TELEGRAM_BULK_LIMIT=str(args.cap),
        # Telegram allows ~30 messages a second per bot: the bulk cap plus room for answers.
        TELEGRAM_BOT_LIMIT=str(max(args.cap + 3, 25)),
    )  # fmt: skip
    subprocess.run([str(ROOT / "bin" / "services.sh"), BENCH_DB], check=True)
    subprocess.run(["redis-cli", "-n", "2", "flushdb"], check=True, capture_output=True)
    subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc",
                    f"DROP DATABASE IF EXISTS {BENCH_DB}"], check=True)  # fmt: skip
    subprocess.run([str(ROOT / "bin" / "services.sh"), BENCH_DB], check=True)
    manage(env, "migrate", "--verbosity", "0")
    logs = Path(tempfile.mkdtemp(prefix="bench-broadcast-"))
    # INFO: the workers say when they are ready (a task is a batch of messages: few lines).
    celery = [sys.executable, "-m", "celery", "-A", "gmbot", "worker", "--loglevel", "INFO"]
    with ExitStack() as stack:
        sandbox = spawn(
            stack,
            env,
            logs,
            "sandbox",
            [sys.executable, "-m", "sandbox", "--host", "127.0.0.1", "--port", str(sandbox_port)],
        )
        sb = Sandbox(f"http://127.0.0.1:{sandbox_port}", timeout=60)
        wait(sb.health, 30, "sandbox")
        sb.create_bot(TOKEN, BOT)
        manage(env, "addbot", "--token", "-", stdin=TOKEN + "\n")
        print(f"bench: {args.groups} groups in the sandbox …", flush=True)
        owner = sb.create_user("Owner", id=OWNER)["id"]
        chats = []
        for n in range(args.groups):
            chat = sb.create_chat("supergroup", title=f"Bench {n}", owner_id=owner)["id"]
            sb.set_member(chat, BOT, "administrator", can_delete_messages=True)
            chats.append(chat)
        seed = SEED.format(owner=OWNER, bot=BOT, paid_rate=args.paid_rate, chats=chats)
        live_id = int(manage(env, "shell", stdin=seed).strip().splitlines()[-1])
        key = manage(env, "createapikey", "--owner", str(OWNER), "--name", "bench").strip()
        users = [sb.create_user(f"U{n}")["id"] for n in range(int(args.stream_rate * 400) + 50)]
        sb.set_star_balance(BOT, args.groups)
        web = start_gunicorn("gmbot.wsgi:application", env, web_port)
        stack.callback(web.terminate)
        workers = {
            queue: spawn(stack, dict(env, LOG_LEVEL="INFO"), logs, f"worker_{queue}",
                         [*celery, "-Q", queue, "-n", f"{queue}@bench", "--concurrency", str(n)])
            for queue, n in (("high", 4), ("normal", 2), ("low", 2))
        }  # fmt: skip
        wait(lambda: all(" ready." in (logs / f"worker_{q}.log").read_text() for q in workers),
             60, "workers")  # fmt: skip
        # The groups were made before: history the bot never heard of, as after `setwebhook`.
        manage(env, "setwebhook", "--bot", BOT, "--url", f"http://127.0.0.1:{web_port}",
               "--drop-pending-updates")  # fmt: skip
        api = requests.Session()
        api.headers["X-API-Key"] = key
        base = f"http://127.0.0.1:{web_port}/api"

        alone: list[float] = []
        if not args.paid:
            # Warm-up, not measured: the first requests open connections and fill caches.
            Stream(sb, users, args.stream_rate).start_for(5)
            print(f"bench: /start at {args.stream_rate}/s for {args.stream_seconds} s, "
                  "no broadcast …", flush=True)  # fmt: skip
            stream = Stream(sb, users, args.stream_rate).start()
            time.sleep(args.stream_seconds)
            sent = stream.stop()
            time.sleep(2)
            alone = start_latencies(sb, sent)

        first_call = sb.calls(bot=BOT)[-1]["seq"]
        cpu_before = {name: cpu_seconds(p.pid) for name, p in
                      [("sandbox", sandbox), ("web", web), *workers.items()]}  # fmt: skip
        started = time.monotonic()
        answer = api.post(f"{base}/send_messages", json={
            "bot": int(TOKEN.split(":")[0]), "text": "Bench is live!", "live": live_id,
            "ban_button": True, "paid": args.paid}, timeout=30)  # fmt: skip
        answer.raise_for_status()
        pk = answer.json()["id"]
        mode = f"paid at {args.paid_rate}/s" if args.paid else f"bulk cap {args.cap}/s"
        print(f"bench: broadcast {pk} to {args.groups} groups, {mode} …", flush=True)
        beside_stream = None if args.paid else Stream(sb, users, args.stream_rate).start()

        def finished() -> dict[str, Any] | None:
            shown = api.get(f"{base}/broadcasts/{pk}", timeout=30).json()
            return shown if shown["status"] in ("done", "stopped", "paused") else None

        shown = wait(finished, args.groups / (args.cap if not args.paid else 50) + 300,
                     "the broadcast", interval=2)  # fmt: skip
        elapsed = time.monotonic() - started
        beside = start_latencies(sb, beside_stream.stop()) if beside_stream else []
        cpu = {name: cpu_seconds(p.pid) - cpu_before[name] for name, p in
               [("sandbox", sandbox), ("web", web), *workers.items()]}  # fmt: skip
        method = "sendMessage"
        calls = [c for c in sb.calls(bot=BOT, method=method, since=first_call)
                 if int(c["params"]["chat_id"]) < 0]  # fmt: skip
        ok = [c for c in calls if c["status"] == 200]
        per_chat = Counter(int(c["params"]["chat_id"]) for c in ok)
        progress = shown["progress"]
        accounted = sum(progress[k] for k in ("sent", "skipped", "failed", "unknown"))

        print(f"load average {os.getloadavg()[0]:.2f} (1 min) at the end")
        print(f"broadcast: {shown['status']} in {elapsed:.1f} s; {progress['sent']} sent, "
              f"{progress['skipped']} skipped, {progress['failed']} failed, "
              f"{progress['unknown']} unknown, {progress['pending']} pending; "
              f"{accounted} of {progress['targets']} targets accounted for")  # fmt: skip
        rate = sustained([c["time"] for c in ok])
        cap = args.paid_rate if args.paid else args.cap
        print(f"sustained rate (middle 80%): {rate:.2f} msg/s = {100 * rate / cap:.1f}% of {cap}/s")
        print(
            f"429s: {sum(1 for c in calls if c['status'] == 429)}; "
            f"chats with two messages: {sum(1 for n in per_chat.values() if n > 1)}"
        )
        if args.paid:
            print(
                f"Stars spent: {progress['stars_spent']} (estimated {progress['stars_estimated']})"
            )
            print("CPU seconds during the broadcast: " + ", ".join(
                f"{name} {seconds:.1f}" for name, seconds in cpu.items())
                + f" (wall {elapsed:.1f} s, 2 cores)")  # fmt: skip
        else:
            for label, values in (("without the broadcast", alone), ("with the broadcast", beside)):
                print(f"/start webhook POST → answer, {label}: n={len(values)} "
                      f"p50 {pct(values, 50):.0f} ms  p95 {pct(values, 95):.0f} ms  "
                      f"max {max(values, default=0):.0f} ms")  # fmt: skip
        (logs / "progress.json").write_text(json.dumps(shown))
        print(f"logs: {logs}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
