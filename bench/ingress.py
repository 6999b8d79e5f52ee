#!/usr/bin/env python3
"""Webhook ingress throughput and latency under gunicorn as the Procfile runs it (issue: pipeline).

    python bench/ingress.py [--seconds 10] [--connections 16,64]

Starts gunicorn with gunicorn.conf.py twice: once with GMBot (secret check, Redis dedup and a real
publish to the Redis broker; no worker drains the queue during the run) and once with a bare WSGI
"ok" app as the ceiling. wrk sends ~1 KB updates with unique update ids over keep-alive
connections to 127.0.0.1 only, for a bounded time. Prints req/s, p50/p99 latency and checks that
every 200 left exactly one job in the queue.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._stack import free_port, production_env, start_gunicorn  # noqa: E402

BENCH_DB = "gmbot_bench"
BENCH_REDIS = "redis://127.0.0.1:6379/14"
SECRET = "bench-webhook-secret-0123456789"  # noqa: S105 - a throwaway for this local run

WRK_SCRIPT = """
local counter = 0
local thread_id = 0
local threads = {}
function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end
function init(args)
  counter = tonumber(args[1]) + tid * 100000000
end
request = function()
  counter = counter + 1
  local body = string.format(TEMPLATE, counter)
  return wrk.format("POST", "/api/webhooks/telegram", {
    ["Content-Type"] = "application/json",
    ["X-Telegram-Bot-Api-Secret-Token"] = "SECRET",
  }, body)
end
"""


def update_template() -> str:
    """A ~1 KB group message update with a %d for the update id, as Lua's string.format wants."""
    text = "Hello from the benchmark, " + "this is a realistic group message. " * 20
    update = {
        "update_id": 0,
        "message": {
            "message_id": 1, "date": 1_700_000_000, "text": text[:800],
            "from": {"id": 123456789, "is_bot": False, "first_name": "Bench", "username": "bench"},
            "chat": {"id": -1001234567890, "type": "supergroup", "title": "Bench group"},
        },
    }  # fmt: skip
    raw = json.dumps(update).replace("%", "%%").replace('"update_id": 0', '"update_id": %d')
    return raw


def prepare(env: dict[str, str]) -> None:
    subprocess.run([str(ROOT / "bin" / "services.sh"), BENCH_DB], check=True)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--verbosity", "0"], cwd=ROOT, env=env, check=True
    )
    code = (
        "from apps.bots.models import Bot; from apps.bots import crypto;"
        "Bot.objects.filter(telegram_id=7999999999).delete();"
        "b = Bot(telegram_id=7999999999, username='bench_bot');"
        "b.set_token('7999999999:bench'); "
        f"b.webhook_secret_hash = crypto.hash_secret('{SECRET}'); b.save()"
    )
    subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code], cwd=ROOT, env=env, check=True
    )


def run_wrk(port: int, connections: int, seconds: int, script: Path, first_id: int) -> dict:
    threads = min(connections, 2)
    out = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "-s",
         str(script), f"http://127.0.0.1:{port}/api/webhooks/telegram", "--", str(first_id)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip

    def latency(label: str) -> float:
        match = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if not match:
            return float("nan")
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        "p50": latency("50"),
        "p99": latency("99"),
        "requests": requests,
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
        "socket_errors": errors.group(1) if errors else "none",
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", default="16,64")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True)

    import redis

    env = production_env(BENCH_DB, BENCH_REDIS)
    prepare(env)
    broker = redis.Redis.from_url(BENCH_REDIS)
    workdir = Path(tempfile.mkdtemp(prefix="gmbot-bench-"))
    script = workdir / "updates.lua"
    script.write_text(
        WRK_SCRIPT.replace("SECRET", SECRET).replace("TEMPLATE", json.dumps(update_template()))
    )
    workers = env.get("WEB_CONCURRENCY") or str(os.cpu_count() * 2 + 1)  # type: ignore[operator]
    kind = env.get("WEB_WORKER_CLASS") or "sync"
    if kind == "gthread":
        kind = f"gthread ({env.get('WEB_THREADS') or 1} threads each)"
    print(f"gunicorn: {workers} {kind} workers (gunicorn.conf.py); wrk over 127.0.0.1; "
          f"{args.seconds}s per run; body {len(update_template())} bytes")  # fmt: skip
    rows = []
    ids = iter(range(0, 10**12, 10**9))  # every run numbers its updates afresh: no duplicates
    for label, app in (
        ("gmbot webhook", "gmbot.wsgi:application"),
        ("bare WSGI ok", "bench._okapp:application"),
    ):
        for connections in (int(c) for c in args.connections.split(",")):
            broker.flushdb()
            port = free_port()
            web = start_gunicorn(app, env, port)
            try:
                run_wrk(port, connections, 2, script, first_id=next(ids))  # warm-up
                broker.delete("high")
                result = run_wrk(port, connections, args.seconds, script, first_id=next(ids))
            finally:
                web.terminate()
                web.wait(timeout=20)
            queued = broker.llen("high")
            rows.append((label, connections, result, queued))
    header = ("app", "conns", "req/s", "p50 ms", "p99 ms", "non-2xx", "queued")
    print("\n{:16} {:>5} {:>9} {:>8} {:>8} {:>8} {:>8}".format(*header))
    for label, connections, r, queued in rows:
        print(f"{label:16} {connections:>5} {r['rps']:>9.0f} {r['p50']:>8.2f} {r['p99']:>8.2f} "
              f"{r['non_2xx']:>8} {queued if label.startswith('gmbot') else '-':>8}")  # fmt: skip
        answered = r["requests"] - r["non_2xx"]
        # wrk stops counting with requests still in flight (and does not count a request it timed
        # out), so more jobs than answers counted is expected; fewer would mean a lost update.
        if label.startswith("gmbot") and queued < answered:
            print(f"  ! {answered} answered 200 but only {queued} jobs queued")
    broker.flushdb()
    shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
