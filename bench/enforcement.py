#!/usr/bin/env python3
"""Enforcement latency under load, the whole stack as `make up` runs it (issue: GroupGuard).

    python bench/enforcement.py [--seconds 120] [--rate 1000] [--warmup 60] [--mix ...]

Starts, on 127.0.0.1 only, the sandbox (its limits off: the product's own Redis budgets still
apply), gunicorn (web) and the `high` and `low` workers from the Procfile, against a PostgreSQL
database of its own (gmbot_bench_guard) and Redis db 13. Builds a world of 20 groups, 5 channels
and 2,000 users; every group is protected by its owner's /protect through the webhook. Then plays
`rate` updates per minute for `seconds` (after `warmup` seconds of subscriber chat): messages
from subscribers and non-subscribers, joins, verify presses and channel leaves. Prints p50/p95/p99
of the time from the webhook POST (the first one of the action's updates) to the sandbox receiving
the resulting restrictChatMember or deleteMessage call, and the same from the action itself; the
verification cache hit rate; Bot API calls per update. Stops by itself.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._stack import free_port, production_env  # noqa: E402
from sandbox.client import Sandbox  # noqa: E402

BENCH_DB = "gmbot_bench_guard"
BENCH_REDIS = "redis://127.0.0.1:6379/13"
TOKEN = "7888888888:bench-guard-token-sandbox-only"  # noqa: S105 - sandbox only
BOT = "bench_guard_bot"
GROUPS, CHANNELS, USERS = 20, 5, 2000
SUBSCRIBED_SHARE = 0.6
# The action mix (shares of all actions), overridable with --mix. In a protected group most
# messages come from members who are subscribed; the rest are the events enforcement is for.
MIX = {"subscriber": 0.7, "non_subscriber": 0.1, "join": 0.1, "verify": 0.05, "leave": 0.05}


def bench_env(sandbox_port: int, web_port: int) -> dict[str, str]:
    return production_env(
        BENCH_DB,
        BENCH_REDIS,
        TELEGRAM_API_URL=f"http://127.0.0.1:{sandbox_port}",
        WEB_BIND=f"127.0.0.1:{web_port}",
    )


class Stack:
    """The processes of the run; every one is stopped on exit, whatever happens."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env = env
        self.logs = logs
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self, name: str, command: list[str]) -> None:
        log = open(self.logs / f"{name}.log", "wb")  # noqa: SIM115 - lives as long as the process
        self.processes.append(
            subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        )

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


def manage(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT, env=env, input=stdin, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip


def wait_for(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except Exception:  # noqa: S110 - not up yet
            pass
        time.sleep(0.2)
    raise SystemExit(f"bench: {what} not ready after {timeout}s")


def build_world(sb: Sandbox) -> dict[str, Any]:
    """Groups, channels and members, made before the webhook is set (so history, not updates)."""
    owner = sb.create_user("Owner", username="bench_owner")["id"]
    channels = []
    for n in range(CHANNELS):
        chat = sb.create_chat("channel", title=f"Channel {n}", username=f"bench_ch{n}",
                              owner_id=owner)  # fmt: skip
        sb.add_bot(BOT, chat["id"], status="administrator")
        channels.append(chat["id"])
    groups = []
    for n in range(GROUPS):
        chat = sb.create_chat("supergroup", title=f"Group {n}", owner_id=owner)
        sb.add_bot(BOT, chat["id"], status="administrator",
                   can_delete_messages=True, can_restrict_members=True)  # fmt: skip
        # The first five groups require two channels; the others one.
        required = [n % CHANNELS] + ([(n + 1) % CHANNELS] if n < CHANNELS else [])
        groups.append({"id": chat["id"], "channels": [channels[i] for i in required]})
    rng = random.Random(7)
    members: list[dict[str, Any]] = []
    joiners: list[dict[str, Any]] = []
    for n in range(USERS):
        user = sb.create_user(f"U{n}")["id"]
        group = groups[n % GROUPS]
        subscribed = rng.random() < SUBSCRIBED_SHARE
        if subscribed:
            for channel in group["channels"]:
                sb.set_member(channel, user, "member")
        person = {"id": user, "group": group, "subscribed": subscribed}
        if n < USERS * 0.7:
            sb.set_member(group["id"], user, "member")
            members.append(person)
        else:
            joiners.append(person)
    return {"owner": owner, "channels": channels, "groups": groups, "members": members,
            "joiners": joiners}  # fmt: skip


class Player:
    """Plays the actions and remembers when each one that expects an enforcement call ran."""

    def __init__(self, sb: Sandbox, world: dict[str, Any]) -> None:
        self.sb = sb
        self.rng = random.Random(11)
        self.subscribers = [p for p in world["members"] if p["subscribed"]]
        # Group chat is uneven: a few members write most messages. Zipf-like weights over the
        # subscribers (in a random order) model that; uniform picks would make almost every
        # message someone's first and understate what a membership cache is for.
        self.rng.shuffle(self.subscribers)
        self.activity = [1 / (rank + 1) ** 1.1 for rank in range(len(self.subscribers))]
        self.writers = [p for p in world["members"] if not p["subscribed"]]
        self.joiners = list(world["joiners"])
        self.muted: dict[int, dict[str, Any]] = {}
        self.warnings: dict[int, int] = {}  # user → message id of the warning sent
        self.calls_seen = 0
        # (method, chat, key, when the action started, the update ids it produced)
        self.expected: list[tuple[str, int, int, float, list[int]]] = []
        self.done: dict[str, int] = dict.fromkeys(MIX, 0)

    def refresh_warnings(self) -> None:
        for call in self.sb.calls(bot=BOT, method="sendMessage", since=self.calls_seen):
            self.calls_seen = max(self.calls_seen, call["seq"])
            markup = call["params"].get("reply_markup") or {}
            for row in markup.get("inline_keyboard", []):
                for button in row:
                    data = button.get("callback_data", "")
                    if data.startswith("gv:") and call["status"] == 200:
                        self.warnings[int(data[3:])] = call["response"]["result"]["message_id"]

    def act(self) -> int:
        """Play one action; returns how many updates it produced."""
        kind = self.rng.choices(list(MIX), weights=list(MIX.values()))[0]
        answer: dict[str, Any] = getattr(self, kind)()
        return len(answer.get("update_ids", []))

    def subscriber(self) -> dict[str, Any]:
        person = self.rng.choices(self.subscribers, weights=self.activity[: len(self.subscribers)])[
            0
        ]
        answer = self.sb.message(person["id"], person["group"]["id"], "hello from a subscriber")
        self.done["subscriber"] += 1
        return answer

    def non_subscriber(self) -> dict[str, Any]:
        if not self.writers:
            return self.subscriber()
        person = self.writers.pop(self.rng.randrange(len(self.writers)))
        started = time.time()
        answer = self.sb.message(person["id"], person["group"]["id"], "hello, no subscription")
        self.expected.append(
            ("deleteMessage", person["group"]["id"], answer["message_id"], started,
             answer["update_ids"])
        )  # fmt: skip
        self.muted[person["id"]] = person
        self.done["non_subscriber"] += 1
        return answer

    def join(self) -> dict[str, Any]:
        if not self.joiners:
            return self.subscriber()
        person = self.joiners.pop()
        started = time.time()
        answer = self.sb.join(person["id"], person["group"]["id"])
        if person["subscribed"]:
            self.subscribers.append(person)
            self.activity.append(1 / len(self.subscribers) ** 1.1)
        else:
            self.expected.append(
                ("restrictChatMember", person["group"]["id"], person["id"], started,
                 answer["update_ids"])
            )  # fmt: skip
            self.muted[person["id"]] = person
        self.done["join"] += 1
        return answer

    def verify(self) -> dict[str, Any]:
        ready = [uid for uid in self.muted if uid in self.warnings]
        if not ready:
            return self.subscriber()
        person = self.muted.pop(self.rng.choice(ready))
        for channel in person["group"]["channels"]:
            self.sb.set_member(channel, person["id"], "member")
        started = time.time()
        answer = self.sb.press(person["id"], person["group"]["id"], self.warnings.pop(person["id"]))
        self.expected.append(
            ("restrictChatMember", person["group"]["id"], person["id"], started,
             answer["update_ids"])
        )  # fmt: skip
        self.done["verify"] += 1
        return answer

    def leave(self) -> dict[str, Any]:
        index = self.rng.randrange(len(self.subscribers))
        person = self.subscribers.pop(index)
        self.activity.pop(index)
        started = time.time()
        answer = self.sb.leave(person["id"], person["group"]["channels"][0])
        self.expected.append(
            ("restrictChatMember", person["group"]["id"], person["id"], started,
             answer["update_ids"])
        )  # fmt: skip
        self.done["leave"] += 1
        return answer


def play(player: Player, rate: int, seconds: float, action: Any) -> int:
    """Run `action` (returning the updates it produced) at `rate` updates a minute; returns how
    many actions ran. A join, say, is two updates: the pace follows updates, not actions."""
    interval = 60.0 / rate
    start = time.monotonic()
    n = produced = 0
    while time.monotonic() - start < seconds:
        result = action()
        produced += result if isinstance(result, int) else len(result.get("update_ids", []))
        n += 1
        if n % 50 == 0:
            player.refresh_warnings()
        time.sleep(max(0.0, start + produced * interval - time.monotonic()))
    return n


Latency = tuple[float, float, float]  # POST → call, of which POST → answered; action → call


def latencies(
    sb: Sandbox, expected: list[tuple[str, int, int, float, list[int]]], since: int
) -> list[Latency]:
    """For each expected call seen: the time from the first webhook POST of the action's updates
    (what the issue measures) to the call, the share of it until the web process answered (the
    update queued), and the time from the action itself (adds the sandbox's own delivery)."""
    posted: dict[int, tuple[float, float]] = {}  # update id → (POST sent, answered)
    for attempt in sb.webhook(BOT)["attempts"]:
        if attempt["error"] is None and attempt["update_id"] not in posted:
            sent = attempt["time"] - attempt["duration_ms"] / 1000
            posted[attempt["update_id"]] = (sent, attempt["time"])
    seen: dict[tuple[str, int, int], list[float]] = {}
    for method in ("deleteMessage", "restrictChatMember"):
        for call in sb.calls(bot=BOT, method=method, since=since):
            params = call["params"]
            key = int(params["message_id"] if method == "deleteMessage" else params["user_id"])
            seen.setdefault((method, int(params["chat_id"]), key), []).append(call["time"])
    found = []
    for method, chat, key, started, update_ids in expected:
        after = [t for t in seen.get((method, chat, key), []) if t >= started]
        deliveries = [posted[u] for u in update_ids if u in posted]
        if after and deliveries:
            at = min(after)
            sent, answered = min(deliveries)
            found.append(((at - sent) * 1000, (answered - sent) * 1000, (at - started) * 1000))
    return found


def percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if values else 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=120)
    parser.add_argument("--rate", type=int, default=1000, help="updates per minute")
    parser.add_argument(
        "--warmup", type=int, default=60, help="seconds of subscriber chat before measuring"
    )
    parser.add_argument(
        "--mix",
        default=",".join(f"{kind}={share}" for kind, share in MIX.items()),
        help="shares of actions, e.g. subscriber=0.35,non_subscriber=0.25,join=0.2,...",
    )
    args = parser.parse_args()
    shares = dict(item.split("=") for item in args.mix.split(","))
    if set(shares) != set(MIX):
        parser.error(f"--mix needs a share for each of {', '.join(MIX)}")
    MIX.update({kind: float(share) for kind, share in shares.items()})
    if not shutil.which("redis-cli"):
        raise SystemExit("bench: redis-cli not found")
    sandbox_port, web_port = free_port(), free_port()
    env = bench_env(sandbox_port, web_port)
    subprocess.run([str(ROOT / "bin" / "services.sh"), BENCH_DB], check=True)
    subprocess.run(["redis-cli", "-n", "13", "flushdb"], check=True, capture_output=True)
    manage(env, "migrate", "--verbosity", "0")
    logs = Path(tempfile.mkdtemp(prefix="bench-guard-"))
    stack = Stack(env, logs)
    try:
        stack.start("sandbox", [sys.executable, "-m", "sandbox", "--host", "127.0.0.1",
                                "--port", str(sandbox_port), "--settings",
                                json.dumps({"enabled": False})])  # fmt: skip
        sb = Sandbox(f"http://127.0.0.1:{sandbox_port}", timeout=30)
        wait_for(sb.health, 30, "sandbox")
        sb.create_bot(TOKEN, BOT)
        manage(env, "addbot", "--token", "-", stdin=TOKEN + "\n")
        print(f"bench: building {GROUPS} groups, {CHANNELS} channels, {USERS} users …", flush=True)
        world = build_world(sb)
        # BENCH_WORKER_LOGLEVEL=INFO logs every task's run time in the workers' logs.
        loglevel = os.environ.get("BENCH_WORKER_LOGLEVEL", "WARNING")
        celery = [sys.executable, "-m", "celery", "-A", "gmbot", "worker", "--loglevel", loglevel]
        stack.start("web", [sys.executable, "-m", "gunicorn", "gmbot.wsgi:application",
                            "--config", "gunicorn.conf.py"])  # fmt: skip
        stack.start("worker_high", [*celery, "-Q", "high", "-n", "high@bench", "--concurrency",
                                    os.environ.get("WORKER_HIGH_CONCURRENCY", "4")])  # fmt: skip
        stack.start("worker_low", [*celery, "-Q", "low", "-n", "low@bench", "--concurrency", "1"])
        wait_for(lambda: urlopen_ok(f"http://127.0.0.1:{web_port}/live"), 30, "web")
        # History so far is not delivered: the bot starts from here, as after `setwebhook`.
        manage(env, "setwebhook", "--bot", BOT, "--url", f"http://127.0.0.1:{web_port}",
               "--drop-pending-updates")  # fmt: skip
        for group in world["groups"]:
            names = " ".join(f"@bench_ch{world['channels'].index(c)}" for c in group["channels"])
            sb.message(world["owner"], group["id"], f"/protect {names}")
        wait_for(lambda: sum("Protection is active" in c["params"].get("text", "")
                             for c in sb.calls(bot=BOT, method="sendMessage")) == GROUPS,
                 60, "protection of every group")  # fmt: skip
        player = Player(sb, world)
        if args.warmup:
            # Steady state, not a cold start: members chat as they do all day before the
            # measured run, so the cache holds what it would in a live group.
            print(f"bench: warm-up, {args.rate} subscriber messages/min for {args.warmup} s "
                  "(not measured) …", flush=True)  # fmt: skip
            play(player, args.rate, args.warmup, player.subscriber)
            wait_for(lambda: sb.webhook(BOT)["pending_update_count"] == 0, 60, "delivery")
            player.done = dict.fromkeys(MIX, 0)
        subprocess.run(["redis-cli", "-n", "13", "del", "gmbot:guard:stats"], check=True,
                       capture_output=True)  # fmt: skip

        first_call = sb.calls(bot=BOT)[-1]["seq"]
        first_update = max(u["update_id"] for u in sb.updates(bot=BOT))
        print(f"bench: {args.rate} updates/min for {args.seconds} s …", flush=True)
        n = play(player, args.rate, args.seconds, player.act)
        wait_for(lambda: sb.webhook(BOT)["pending_update_count"] == 0, 60, "delivery")
        time.sleep(3)  # the last jobs finish
        found = latencies(sb, player.expected, first_call)
        updates = [u for u in sb.updates(bot=BOT, since=first_update)]
        calls = [c for c in sb.calls(bot=BOT, since=first_call)]
        stats = subprocess.run(
            ["redis-cli", "-n", "13", "hgetall", "gmbot:guard:stats"],
            check=True, capture_output=True, text=True,
        ).stdout.split()  # fmt: skip
        counts = dict(zip(stats[::2], map(int, stats[1::2]), strict=True))
        hits, misses = counts.get("hits", 0), counts.get("misses", 0)
        errors = sum(1 for c in calls if c["status"] != 200)
        print(f"actions: {n} ({', '.join(f'{k} {v}' for k, v in player.done.items())})")
        print(f"enforcement calls expected {len(player.expected)}, seen {len(found)}")
        for label, part in (
            ("webhook POST → restrict/delete", 0),
            ("  of which POST → answered (queued)", 1),
            ("action → restrict/delete (+ sandbox delivery)", 2),
        ):
            values = [latency[part] for latency in found]
            print(f"latency {label} (ms): p50 {percentile(values, 50):.1f}  "
                  f"p95 {percentile(values, 95):.1f}  p99 {percentile(values, 99):.1f}  "
                  f"max {max(values, default=0):.1f}")  # fmt: skip
        print(f"cache: hits {hits}, misses {misses}, hit rate "
              f"{100 * hits / max(1, hits + misses):.1f}%")  # fmt: skip
        print(f"updates {len(updates)}, Bot API calls {len(calls)} ({errors} not ok), "
              f"calls per update {len(calls) / max(1, len(updates)):.2f}")  # fmt: skip
        # What the sandbox saw, for a closer look after the run (it stops with the stack).
        (logs / "sandbox.json").write_text(
            json.dumps(
                {
                    "webhook": sb.webhook(BOT)["attempts"],
                    "calls": calls,
                    "expected": player.expected,
                }
            )
        )
        print(f"logs: {logs} (sandbox.json: every delivery and call)")
    finally:
        stack.stop()
    return 0


def urlopen_ok(url: str) -> bool:
    import urllib.request

    with urllib.request.urlopen(url, timeout=1) as answer:  # noqa: S310 - loopback
        return bool(answer.status == 200)


if __name__ == "__main__":
    sys.exit(main())
