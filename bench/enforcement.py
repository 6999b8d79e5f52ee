#!/usr/bin/env python3
"""Enforcement latency and capacity under load, the whole stack as the Procfile runs it.

    python bench/enforcement.py [--seconds 120] [--rate 1000] [--warmup 60] [--mix ...]
                                [--api-latency-ms 0] [--groups 20] [--bots 1]
                                [--features guard[,growth]]
    python bench/enforcement.py --find-capacity [--start 2000] [--step 2000] [--bound-ms B]

Starts, on 127.0.0.1 only, the sandbox (its limits off: the product's own Redis budgets still
apply; with --api-latency-ms it answers every Bot API call that much later), and the Procfile's
`web`, `worker_high` and `worker_low` lines (WORKER_HIGH_POOL, WORKER_HIGH_CONCURRENCY and the
other variables they name apply), against a PostgreSQL database of its own (gmbot_bench_guard)
and Redis db 13 (BENCH_DATABASE and BENCH_REDIS_DB name others, for a second run beside this
one); the database is made afresh for every run, so its schema is this tree's own.
`worker_high` runs with `-A bench._probe`: GMBot's app plus counters.

Builds a world of `groups` groups (spread over `bots` bots; each bot has 5 channels of its own,
a quarter of the groups require two) and 100 users per group; every group is protected by its
owner's /protect through the webhook. Then plays `rate` updates per minute for `seconds` (after
`warmup` seconds of subscriber chat): messages from subscribers and non-subscribers, joins,
verify presses and channel leaves. Prints p50/p95/p99 of the time from the webhook POST (the
first one of the action's updates) to the sandbox answering the resulting restrictChatMember or
deleteMessage call, and the same from the action itself; the cache hit rate; Bot API calls,
database queries and Redis round trips per update; the CPU each process used.

--find-capacity plays `seconds` at `start`, `start + step`, … updates per minute (one world, one
warm-up) until the p95 passes `bound-ms` (default: 50 ms, or three calls' worth of
--api-latency-ms if more) or an expected call goes missing, and reports the highest rate held
with the CPU split of every step. Stops by itself.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import re
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._stack import free_port, production_env  # noqa: E402
from sandbox.client import Sandbox  # noqa: E402

BENCH_DB = os.environ.get("BENCH_DATABASE", "gmbot_bench_guard")
REDIS_DB = os.environ.get("BENCH_REDIS_DB", "13")
BENCH_REDIS = f"redis://127.0.0.1:6379/{REDIS_DB}"
CHANNELS_PER_BOT = 5
USERS_PER_GROUP = 100
SUBSCRIBED_SHARE = 0.6
# The action mix (shares of all actions), overridable with --mix. In a protected group most
# messages come from members who are subscribed; the rest are the events enforcement is for.
MIX = {"subscriber": 0.7, "non_subscriber": 0.1, "join": 0.1, "verify": 0.05, "leave": 0.05}
# Processes whose CPU is reported, by Procfile name (plus the sandbox, Redis, PostgreSQL, us).
PROCFILE_LINES = ("web", "worker_high", "worker_low")

# method, chat, key, action time, update ids, the action (non_subscriber, join, verify, leave)
Expected = tuple[str, int, int, float, list[int], str]


def bench_env(sandbox_port: int, web_port: int, probe_dir: Path) -> dict[str, str]:
    env = production_env(
        BENCH_DB,
        BENCH_REDIS,
        TELEGRAM_API_URL=f"http://127.0.0.1:{sandbox_port}",
        WEB_BIND=f"127.0.0.1:{web_port}",
        BENCH_PROBE_DIR=str(probe_dir),
    )
    # BENCH_WORKER_LOGLEVEL=INFO logs every task's run time in the workers' logs.
    env["LOG_LEVEL"] = os.environ.get("BENCH_WORKER_LOGLEVEL", "WARNING")
    return env


def procfile_command(name: str, env: dict[str, str], app: str | None = None) -> list[str]:
    """The Procfile's line for `name`, its ${VAR:-default}s expanded from `env`, run with this
    interpreter; `app` replaces the Celery app given with -A."""
    line = next(
        line for line in (ROOT / "Procfile").read_text().splitlines() if line.startswith(f"{name}:")
    )
    text = re.sub(r"\$\{(\w+):-([^}]*)\}", lambda m: env.get(m[1]) or m[2], line.split(":", 1)[1])
    words = shlex.split(text)
    if app is not None:
        words[words.index("-A") + 1] = app
    # `python -m gmbot.processes N celery ...` (worker_high) or `celery ...`: this interpreter.
    return [sys.executable, *words[1:]] if words[0] == "python" else [sys.executable, "-m", *words]


class Stack:
    """The processes of the run; every one is stopped on exit, whatever happens."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env = env
        self.logs = logs
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, command: list[str]) -> None:
        log = open(self.logs / f"{name}.log", "wb")  # noqa: SIM115 - lives as long as the process
        self.processes[name] = subprocess.Popen(
            command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
        )

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


def manage(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT, env=env, input=stdin, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode:
        raise SystemExit(f"bench: manage.py {args[0]} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


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


# ---- the world ----------------------------------------------------------------------------------


@dataclass
class World:
    owner: int
    bots: list[str]
    groups: list[dict[str, Any]] = field(default_factory=list)
    members: list[dict[str, Any]] = field(default_factory=list)
    joiners: list[dict[str, Any]] = field(default_factory=list)


def bot_token(n: int) -> str:
    return f"{7888888888 + n}:bench-guard-token-sandbox-only"


def bot_name(n: int) -> str:
    return "bench_guard_bot" if n == 0 else f"bench_guard{n}_bot"


def build_world(url: str, n_groups: int, n_bots: int) -> World:
    """Groups, channels and members, made before the webhook is set (so history, not updates).
    Each bot has channels of its own, so a channel leave concerns one bot, as in one guard."""
    sb = Sandbox(url, timeout=30)
    world = World(sb.create_user("Owner", username="bench_owner")["id"],
                  [bot_name(n) for n in range(n_bots)])  # fmt: skip
    channels: dict[str, list[int]] = {}
    for b, bot in enumerate(world.bots):
        channels[bot] = []
        for n in range(CHANNELS_PER_BOT):
            chat = sb.create_chat("channel", title=f"Channel {b}.{n}",
                                  username=f"bench_ch{b}_{n}", owner_id=world.owner)  # fmt: skip
            sb.add_bot(bot, chat["id"], status="administrator")
            channels[bot].append(chat["id"])
    for n in range(n_groups):
        bot = world.bots[n % n_bots]
        k = n // n_bots  # the group's place among its bot's groups
        chat = sb.create_chat("supergroup", title=f"Group {n}", owner_id=world.owner)
        sb.add_bot(bot, chat["id"], status="administrator",
                   can_delete_messages=True, can_restrict_members=True)  # fmt: skip
        # A quarter of the groups (the first five of every twenty) require two channels.
        own = channels[bot]
        required = [own[k % CHANNELS_PER_BOT]]
        if k % 20 < 5:
            required.append(own[(k + 1) % CHANNELS_PER_BOT])
        world.groups.append({"id": chat["id"], "bot": bot, "channels": required})
    rng = random.Random(7)
    users = n_groups * USERS_PER_GROUP
    plan = [(n, world.groups[n % n_groups], rng.random() < SUBSCRIBED_SHARE) for n in range(users)]
    local = threading.local()

    def make(entry: tuple[int, dict[str, Any], bool]) -> dict[str, Any]:
        n, group, subscribed = entry
        if not hasattr(local, "sb"):
            local.sb = Sandbox(url, timeout=30)
        user = local.sb.create_user(f"U{n}")["id"]
        if subscribed:
            for channel in group["channels"]:
                local.sb.set_member(channel, user, "member")
        if n < users * 0.7:
            local.sb.set_member(group["id"], user, "member")
        return {"id": user, "group": group, "subscribed": subscribed, "n": n}

    with ThreadPoolExecutor(8) as pool:
        for person in pool.map(make, plan):
            (world.members if person["n"] < users * 0.7 else world.joiners).append(person)
    return world


class Player:
    """Plays the actions and remembers when each one that expects an enforcement call ran."""

    def __init__(self, sb: Sandbox, world: World) -> None:
        self.sb = sb
        self.rng = random.Random(11)
        self.subscribers = [p for p in world.members if p["subscribed"]]
        # Group chat is uneven: a few members write most messages. Zipf-like weights over the
        # subscribers (in a random order) model that; uniform picks would make almost every
        # message someone's first and understate what a membership cache is for.
        self.rng.shuffle(self.subscribers)
        self.activity = [1 / (rank + 1) ** 1.1 for rank in range(len(self.subscribers))]
        self.writers = [p for p in world.members if not p["subscribed"]]
        self.joiners = list(world.joiners)
        self.muted: dict[int, dict[str, Any]] = {}
        self.warnings: dict[int, int] = {}  # user → message id of the warning sent
        self.calls_seen = 0
        self.expected: list[Expected] = []
        self.done: dict[str, int] = dict.fromkeys(MIX, 0)
        self.ran_dry: set[str] = set()  # kinds played as subscriber messages for want of people

    def refresh_warnings(self) -> None:
        for call in self.sb.calls(method="sendMessage", since=self.calls_seen):
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
            self.ran_dry.add("non_subscriber")
            return self.subscriber()
        person = self.writers.pop(self.rng.randrange(len(self.writers)))
        started = time.time()
        answer = self.sb.message(person["id"], person["group"]["id"], "hello, no subscription")
        self.expected.append(
            ("deleteMessage", person["group"]["id"], answer["message_id"], started,
             answer["update_ids"], "non_subscriber")
        )  # fmt: skip
        self.muted[person["id"]] = person
        self.done["non_subscriber"] += 1
        return answer

    def join(self) -> dict[str, Any]:
        if not self.joiners:
            self.ran_dry.add("join")
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
                 answer["update_ids"], "join")
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
        answer = self.sb.press(person["id"], person["group"]["id"], self.warnings.pop(person["id"]),
                               bot=person["group"]["bot"])  # fmt: skip
        self.expected.append(
            ("restrictChatMember", person["group"]["id"], person["id"], started,
             answer["update_ids"], "verify")
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
             answer["update_ids"], "leave")
        )  # fmt: skip
        self.done["leave"] += 1
        return answer


def play(player: Player, rate: int, seconds: float, action: Any) -> tuple[int, int]:
    """Run `action` (returning the updates it produced) at `rate` updates a minute; returns how
    many actions ran and the updates they produced. A join, say, is two updates: the pace follows
    updates, not actions (the bot's own restrictions, reported back, come on top)."""
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
    return n, produced


# ---- what a window of the run measured ----------------------------------------------------------


class Latency(NamedTuple):
    """One expected call's timings, in ms (`report` reads the first three by position)."""

    posted: float  # webhook POST → the call
    queued: float  # of which POST → answered (the update queued)
    acted: float  # the action itself → the call (adds the sandbox's own delivery)
    action: str
    to_job: float  # answered → the first of the action's jobs started (NaN: the probe missed it)


def job_starts(probe_dir: Path) -> dict[int, float]:
    """When each update's job started (its first run), from every high-worker process."""
    starts: dict[int, float] = {}
    for path in probe_dir.glob("starts-*.txt"):
        for line in path.read_text().splitlines():
            update_id, _, at = line.partition(" ")
            if at:
                key, when = int(update_id), float(at)
                starts[key] = min(when, starts.get(key, when))
    return starts


def latencies(
    sb: Sandbox, bots: list[str], expected: list[Expected], since: int, starts: dict[int, float]
) -> list[Latency]:
    """For each expected call seen: the time from the first webhook POST of the action's updates
    (what the issue measures) to the call, the share of it until the web process answered (the
    update queued), the time from the action itself (adds the sandbox's own delivery), and from
    the answer until the first of the action's jobs started (`starts`: update id → when)."""
    posted: dict[int, tuple[float, float]] = {}  # update id → (POST sent, answered)
    for bot in bots:
        for attempt in sb.webhook(bot)["attempts"]:
            if attempt["error"] is None and attempt["update_id"] not in posted:
                sent = attempt["time"] - attempt["duration_ms"] / 1000
                posted[attempt["update_id"]] = (sent, attempt["time"])
    seen: dict[tuple[str, int, int], list[float]] = {}
    for method in ("deleteMessage", "restrictChatMember"):
        for call in sb.calls(method=method, since=since):
            params = call["params"]
            key = int(params["message_id"] if method == "deleteMessage" else params["user_id"])
            seen.setdefault((method, int(params["chat_id"]), key), []).append(call["time"])
    found = []
    for method, chat, key, started, update_ids, action in expected:
        after = [t for t in seen.get((method, chat, key), []) if t >= started]
        deliveries = [posted[u] for u in update_ids if u in posted]
        if after and deliveries:
            at = min(after)
            sent, answered = min(deliveries)
            begun = [starts[u] for u in update_ids if u in starts]
            queued = (min(begun) - answered) * 1000 if begun else math.nan
            found.append(
                Latency((at - sent) * 1000, (answered - sent) * 1000, (at - started) * 1000, action,
                        queued)
            )  # fmt: skip
    return found


def percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if values else 0.0


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()  # after "pid (comm) "; comm may hold spaces


def process_cpu(pid: int) -> float:
    """CPU seconds of a process: its own, and its waited-for children's that have exited."""
    fields = _stat(pid)
    return sum(int(value) for value in fields[11:15]) / CLOCK_TICKS if fields else 0.0


def tree(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))):
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def machine_busy() -> tuple[float, float]:
    """(busy, all) CPU seconds of the machine since boot, every core together."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle, iowait
    return (sum(values[:8]) - idle) / CLOCK_TICKS, sum(values[:8]) / CLOCK_TICKS


def redis_pid() -> int:
    out = subprocess.run(["redis-cli", "info", "server"], check=True, capture_output=True,
                         text=True).stdout  # fmt: skip
    return int(re.search(r"process_id:(\d+)", out)[1])  # type: ignore[index]


def postgres_backends() -> set[int]:
    """The PostgreSQL backends serving the benchmark's database (web, workers)."""
    out = subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", BENCH_DB, "-Atc",
         "select pid from pg_stat_activity where datname = current_database() "
         "and pid <> pg_backend_pid()"],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    return {int(pid) for pid in out.split()}


class CpuMeter:
    """CPU seconds used by each part of the stack between `start()` and `stop()`."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.redis = redis_pid()

    def _sample(self) -> dict[str, float]:
        sample = {
            name: sum(process_cpu(pid) for pid in tree(process.pid))
            for name, process in self.stack.processes.items()
        }
        sample["redis"] = process_cpu(self.redis)
        sample["bench"] = process_cpu(os.getpid())
        sample["machine"] = machine_busy()[0]
        return sample

    def start(self) -> None:
        self.before = self._sample()
        self.backends = {pid: process_cpu(pid) for pid in postgres_backends()}
        self.started = time.monotonic()

    def stop(self) -> dict[str, float]:
        """Per part, the share of one core used (100 = one core busy all the time); and
        "elapsed", the seconds measured."""
        elapsed = time.monotonic() - self.started
        after = self._sample()
        share = {name: 100 * (after[name] - self.before[name]) / elapsed for name in after}
        # A backend that appeared during the window counts from zero; one that left is lost.
        backends = postgres_backends()
        used = sum(process_cpu(pid) - self.backends.get(pid, 0.0) for pid in backends)
        share["postgres"] = 100 * used / elapsed
        share["elapsed"] = elapsed
        return share


def probe_totals(probe_dir: Path) -> dict[str, list[float]]:
    """The high worker's counters, summed over its processes (see bench/_probe.py)."""
    totals: dict[str, list[float]] = {}
    for path in probe_dir.glob("probe-*.json"):
        try:
            data = json.loads(path.read_text())
        except ValueError:
            continue  # caught mid-write; the half-second flush makes this rare
        for kind, values in data.items():
            sums = totals.setdefault(kind, [0.0] * len(values))
            for i, value in enumerate(values):
                sums[i] += value
    return totals


def probe_delta(before: dict[str, list[float]], after: dict[str, list[float]]) -> dict[str, Any]:
    return {
        kind: [a - b for a, b in zip(values, before.get(kind, [0.0] * len(values)), strict=True)]
        for kind, values in after.items()
    }


def queue_length(queue: str) -> int:
    out = subprocess.run(["redis-cli", "-n", REDIS_DB, "llen", queue], check=True,
                         capture_output=True, text=True).stdout  # fmt: skip
    return int(out)


def redis_stats() -> dict[str, int]:
    out = subprocess.run(["redis-cli", "-n", REDIS_DB, "hgetall", "gmbot:guard:stats"], check=True,
                         capture_output=True, text=True).stdout.split()  # fmt: skip
    return dict(zip(out[::2], map(int, out[1::2]), strict=True))


@dataclass
class Window:
    rate: int
    seconds: float
    actions: int
    produced: int  # updates the actions produced, the ones the rate counts
    done: dict[str, int]
    expected: int
    found: list[Latency]
    updates: int
    calls: list[dict[str, Any]]
    hits: int
    misses: int
    cpu: dict[str, float]
    probe: dict[str, list[float]]

    def p(self, q: int, part: int = 0) -> float:
        return percentile([float(latency[part]) for latency in self.found], q)


def measure(
    sb: Sandbox, stack: Stack, player: Player, bots: list[str], rate: int, seconds: int,
    probe_dir: Path,
) -> Window:  # fmt: skip
    subprocess.run(["redis-cli", "-n", REDIS_DB, "del", "gmbot:guard:stats"], check=True,
                   capture_output=True)  # fmt: skip
    first_call = sb.calls()[-1]["seq"]
    first_update = max(u["update_id"] for u in sb.updates())
    expected_from = len(player.expected)
    player.done = dict.fromkeys(MIX, 0)
    meter = CpuMeter(stack)
    probe_before = probe_totals(probe_dir)
    meter.start()
    n, produced = play(player, rate, seconds, player.act)
    for bot in bots:
        wait_for(lambda bot=bot: sb.webhook(bot)["pending_update_count"] == 0, 120, "delivery")
    wait_for(lambda: queue_length("high") == 0, 300, "the high queue drained")
    time.sleep(3)  # the last jobs finish, the probe flushes
    # Until every update was handled: a run that falls behind is charged its whole backlog.
    cpu = meter.stop()
    expected = player.expected[expected_from:]
    counts = redis_stats()
    return Window(
        rate=rate,
        seconds=seconds,
        actions=n,
        produced=produced,
        done=dict(player.done),
        expected=len(expected),
        found=latencies(sb, bots, expected, first_call, job_starts(probe_dir)),
        updates=len(sb.updates(since=first_update)),
        calls=sb.calls(since=first_call),
        hits=counts.get("hits", 0),
        misses=counts.get("misses", 0),
        cpu=cpu,
        probe=probe_delta(probe_before, probe_totals(probe_dir)),
    )


def report(window: Window) -> None:
    done = ", ".join(f"{k} {v}" for k, v in window.done.items())
    # On a loaded machine the player itself may fall short of the rate asked: say so.
    offered = 60 * window.produced / window.seconds
    print(f"actions: {window.actions} ({done}); offered {offered:.0f} updates/min "
          f"of {window.rate} asked")  # fmt: skip
    if offered < 0.95 * window.rate:
        print("bench: the player fell short of the rate: the machine is too busy for this figure")
    print(f"enforcement calls expected {window.expected}, seen {len(window.found)}")
    for label, part in (
        ("webhook POST → restrict/delete", 0),
        ("  of which POST → answered (queued)", 1),
        ("action → restrict/delete (+ sandbox delivery)", 2),
    ):
        values = [float(latency[part]) for latency in window.found]
        print(f"latency {label} (ms): p50 {percentile(values, 50):.1f}  "
              f"p95 {percentile(values, 95):.1f}  p99 {percentile(values, 99):.1f}  "
              f"max {max(values, default=0):.1f}")  # fmt: skip
        if part == 1:  # then the wait in the queue (the worker's clock against the sandbox's)
            queued = [x.to_job for x in window.found if not math.isnan(x.to_job)]
            print(f"latency   then answered → job started (ms): p50 {percentile(queued, 50):.1f}  "
                  f"p95 {percentile(queued, 95):.1f}  p99 {percentile(queued, 99):.1f}  "
                  f"max {max(queued, default=0):.1f}")  # fmt: skip
    # Each action's own chain of calls (a join checks a channel, then mutes; a press checks,
    # then unmutes): which one sets the tail.
    by_action: dict[str, list[float]] = {}
    for latency in window.found:
        by_action.setdefault(latency.action, []).append(latency.posted)
    print("latency webhook POST → restrict/delete by action (ms): " + ";  ".join(
        f"{action} {len(values)}: p50 {percentile(values, 50):.1f} p95 {percentile(values, 95):.1f}"
        for action, values in sorted(by_action.items())
    ))  # fmt: skip
    hits, misses = window.hits, window.misses
    print(f"cache: hits {hits}, misses {misses}, hit rate "
          f"{100 * hits / max(1, hits + misses):.1f}%")  # fmt: skip
    refused = Counter(f"{c['method']} {c['status']}" for c in window.calls if c["status"] != 200)
    print(f"updates {window.updates}, Bot API calls {len(window.calls)} "
          f"({sum(refused.values())} not ok{': ' if refused else ''}"
          f"{', '.join(f'{k} x{v}' for k, v in refused.most_common())}), "
          f"calls per update {len(window.calls) / max(1, window.updates):.2f}")  # fmt: skip
    counters = ("process", "gc", "turn", "budget")
    jobs = {
        kind: v
        for kind, v in window.probe.items()
        if kind not in counters and not kind.startswith("turn:") and v[0]
    }
    print("high worker, per job:  kind            jobs  DB queries  Redis round trips  wall ms"
          "  CPU ms")  # fmt: skip
    for kind, (count, queries, round_trips, seconds, cpu_s) in sorted(jobs.items()):
        print(f"{'':22}{kind:15} {count:5.0f}  {queries / count:10.2f}  {round_trips / count:17.2f}"
              f"  {1000 * seconds / count:7.1f}  {1000 * cpu_s / count:6.2f}")  # fmt: skip
    total_jobs = sum(v[0] for v in jobs.values())
    in_jobs = sum(v[2] for v in jobs.values())
    process = window.probe.get("process", [0, 0, 0, 0, 0])[2]
    print(f"Redis round trips per update: {in_jobs / max(1, total_jobs):.2f} in the job, "
          f"{(process - in_jobs) / max(1, total_jobs):.2f} Celery's own (fetch, ack, events) "
          "in the high worker, 1 at the webhook")  # fmt: skip
    collector = window.probe.get("gc", [0.0] * 6)
    gc_runs, gc_seconds = collector[:3], collector[3:]
    print("garbage collector in the high worker, runs (ms each) by generation: "
          + ", ".join(f"{g}: {n:.0f} ({1000 * t / max(1, n):.2f})"
                      for g, (n, t) in enumerate(zip(gc_runs, gc_seconds, strict=True)))
          + f"; {1000 * sum(gc_seconds) / max(1, total_jobs):.2f} ms per job")  # fmt: skip
    waits, waited, turns = window.probe.get("turn", [0, 0, 0])
    print(f"per-chat order: {waits:.0f} of {turns:.0f} jobs waited for an earlier update of their "
          f"chat, {1000 * waited / max(1, waits):.1f} ms each; by kind: "
          + ", ".join(f"{kind[5:]} {v[0]:.0f} ({1000 * v[1] / max(1, v[0]):.0f} ms)"
                      for kind, v in sorted(window.probe.items())
                      if kind.startswith("turn:") and v[0]))  # fmt: skip
    calls, paced, slept = window.probe.get("budget", [0, 0, 0])
    print(f"budgets: {paced:.0f} of {calls:.0f} Bot API calls waited for a bot's or a chat's "
          f"budget (TELEGRAM_CALLS_LIMIT and the rest), {1000 * slept / max(1, paced):.1f} ms "
          "each")  # fmt: skip
    cpu = window.cpu
    parts = ("web", "worker_high", "worker_low", "sandbox", "redis", "postgres", "bench")
    ours = sum(cpu[name] for name in parts)
    shares = ", ".join(f"{name} {cpu[name]:.0f}" for name in parts)
    print(f"CPU over {cpu['elapsed']:.0f} s (the run and its drain), % of one core: {shares}"
          f"; machine {cpu['machine']:.0f} of {100 * (os.cpu_count() or 1)}"
          f" (others {max(0.0, cpu['machine'] - ours):.0f}; Redis is shared)")  # fmt: skip
    # % of a core is 10 ms of CPU per second (over the play and the drain that followed).
    per_second = window.updates / cpu["elapsed"]
    in_job = 1000 * sum(v[4] for v in jobs.values()) / max(1, total_jobs)
    worker = 10 * cpu["worker_high"] / per_second
    print(f"CPU per update, ms: high worker {worker:.2f} (in the job {in_job:.2f}, Celery around "
          f"it {worker - in_job:.2f}), all of the stack {10 * ours / per_second:.2f}")  # fmt: skip


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
    parser.add_argument("--api-latency-ms", type=float, default=0.0,
                        help="the sandbox answers every Bot API call this much later")  # fmt: skip
    parser.add_argument("--groups", type=int, default=20)
    parser.add_argument("--bots", type=int, default=1)
    parser.add_argument("--features", default="guard",
                        help="what the bots run, e.g. guard,growth: growth adds member activity's "
                             "observer (SPEC M3) to every update")  # fmt: skip
    parser.add_argument("--find-capacity", action="store_true",
                        help="step the rate up until the p95 passes --bound-ms")  # fmt: skip
    parser.add_argument("--start", type=int, default=2000, help="--find-capacity: first rate")
    parser.add_argument("--step", type=int, default=2000, help="--find-capacity: rate step")
    parser.add_argument("--bound-ms", type=float, help="--find-capacity: the p95 bound")
    args = parser.parse_args()
    shares = dict(item.split("=") for item in args.mix.split(","))
    if set(shares) != set(MIX):
        parser.error(f"--mix needs a share for each of {', '.join(MIX)}")
    MIX.update({kind: float(share) for kind, share in shares.items()})
    if args.groups < args.bots:
        parser.error("--groups must be at least --bots")
    bound = args.bound_ms or max(50.0, 3 * args.api_latency_ms)
    for tool in ("redis-cli", "psql"):
        if not shutil.which(tool):
            raise SystemExit(f"bench: {tool} not found")
    logs = Path(tempfile.mkdtemp(prefix="bench-guard-"))
    probe_dir = logs / "probe"
    probe_dir.mkdir()
    sandbox_port, web_port = free_port(), free_port()
    env = bench_env(sandbox_port, web_port, probe_dir)
    # A database left by another tree's run may hold another schema: start from an empty one.
    subprocess.run([str(ROOT / "bin" / "services.sh"), BENCH_DB], check=True)
    subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", BENCH_DB],
                   check=True)  # fmt: skip
    subprocess.run([str(ROOT / "bin" / "services.sh"), BENCH_DB], check=True)
    subprocess.run(["redis-cli", "-n", REDIS_DB, "flushdb"], check=True, capture_output=True)
    manage(env, "migrate", "--verbosity", "0")
    stack = Stack(env, logs)
    # A run stopped from outside (SIGTERM) still stops the stack it started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    try:
        stack.start("sandbox", [sys.executable, "-m", "sandbox", "--host", "127.0.0.1",
                                "--port", str(sandbox_port), "--settings",
                                json.dumps({"enabled": False})])  # fmt: skip
        url = f"http://127.0.0.1:{sandbox_port}"
        sb = Sandbox(url, timeout=30)
        wait_for(sb.health, 30, "sandbox")
        bots = [bot_name(n) for n in range(args.bots)]
        for n, bot in enumerate(bots):
            sb.create_bot(bot_token(n), bot)
        if args.api_latency_ms:
            sb.fault("*", delay_ms=args.api_latency_ms)
        for n in range(args.bots):
            manage(env, "addbot", "--token", "-", "--features", args.features,
                   stdin=bot_token(n) + "\n")  # fmt: skip
        print(f"bench: building {args.groups} groups ({args.bots} bot(s)), "
              f"{CHANNELS_PER_BOT * args.bots} channels, {USERS_PER_GROUP * args.groups} users; "
              f"Bot API latency {args.api_latency_ms:g} ms …", flush=True)  # fmt: skip
        world = build_world(url, args.groups, args.bots)
        stack.start("web", procfile_command("web", env))
        high = procfile_command("worker_high", env, app="bench._probe")
        stack.start("worker_high", high)
        stack.start("worker_low", procfile_command("worker_low", env))
        print("bench: worker_high: " + shlex.join(high[2:]))
        wait_for(lambda: urlopen_ok(f"http://127.0.0.1:{web_port}/live"), 30, "web")
        # History so far is not delivered: the bot starts from here, as after `setwebhook`.
        for bot in bots:
            manage(env, "setwebhook", "--bot", bot, "--url", f"http://127.0.0.1:{web_port}",
                   "--drop-pending-updates")  # fmt: skip
        for group in world.groups:
            names = " ".join(f"@{sb.chat(c)['username']}" for c in group["channels"])
            sb.message(world.owner, group["id"], f"/protect {names}")
        wait_for(lambda: sum("Protection is active" in c["params"].get("text", "")
                             for c in sb.calls(method="sendMessage")) == args.groups,
                 120 + args.groups, "protection of every group")  # fmt: skip
        player = Player(sb, world)
        first = args.start if args.find_capacity else args.rate
        if args.warmup:
            # Steady state, not a cold start: members chat as they do all day before the
            # measured run, so the cache holds what it would in a live group.
            print(f"bench: warm-up, {first} subscriber messages/min for {args.warmup} s "
                  "(not measured) …", flush=True)  # fmt: skip
            play(player, first, args.warmup, player.subscriber)
            for bot in bots:
                wait_for(lambda bot=bot: sb.webhook(bot)["pending_update_count"] == 0, 120,
                         "delivery")  # fmt: skip
            wait_for(lambda: queue_length("high") == 0, 300, "the high queue drained")
        if not args.find_capacity:
            print(f"bench: {args.rate} updates/min for {args.seconds} s …", flush=True)
            window = measure(sb, stack, player, bots, args.rate, args.seconds, probe_dir)
            report(window)
        else:
            find_capacity(sb, stack, player, bots, args, bound, probe_dir)
        if player.ran_dry:
            print(f"bench: ran out of people for {', '.join(sorted(player.ran_dry))}: those "
                  "actions were played as subscriber messages (use more --groups)")  # fmt: skip
        # What the sandbox saw, for a closer look after the run (it stops with the stack).
        (logs / "sandbox.json").write_text(
            json.dumps(
                {
                    "webhook": [sb.webhook(bot)["attempts"] for bot in bots],
                    "calls": sb.calls(),
                    "expected": player.expected,
                }
            )
        )
        print(f"logs: {logs} (sandbox.json: every delivery and call; probe/: when each job "
              "started, and how long each that waited for its chat waited)")  # fmt: skip
    finally:
        stack.stop()
    return 0


def find_capacity(
    sb: Sandbox, stack: Stack, player: Player, bots: list[str], args: argparse.Namespace,
    bound: float, probe_dir: Path,
) -> None:  # fmt: skip
    held: Window | None = None
    rate = args.start
    while True:
        print(f"bench: {rate} updates/min for {args.seconds} s …", flush=True)
        window = measure(sb, stack, player, bots, rate, args.seconds, probe_dir)
        report(window)
        missing = window.expected - len(window.found)
        ok = window.p(95) <= bound and missing == 0
        print(f"bench: {rate}/min {'held' if ok else 'not held'} (p95 {window.p(95):.1f} ms, "
              f"bound {bound:g} ms, {missing} expected calls missing)\n", flush=True)  # fmt: skip
        if not ok:
            break
        held = window
        rate += args.step
    if held is None:
        print(f"capacity: not even {args.start} updates/min held with p95 ≤ {bound:g} ms")
    else:
        cpu = ", ".join(f"{k} {v:.0f}" for k, v in held.cpu.items() if k != "elapsed")
        print(f"capacity: {held.rate} updates/min held with p95 {held.p(95):.1f} ms "
              f"≤ {bound:g} ms (CPU, % of one core: {cpu})")  # fmt: skip


def urlopen_ok(url: str) -> bool:
    import urllib.request

    with urllib.request.urlopen(url, timeout=1) as answer:  # noqa: S310 - loopback
        return bool(answer.status == 200)


if __name__ == "__main__":
    sys.exit(main())
