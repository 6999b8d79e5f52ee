"""Throughput of the Telegram Bot API sandbox: sendMessage over keep-alive connections.

    .venv/bin/python bench/sandbox.py [--connections 16] [--seconds 5] [--method sendMessage]

Starts `python -m sandbox` on a free 127.0.0.1 port (limits off: this measures the server, not
Telegram's flood control), drives it from this process with asyncio + aiohttp for a fixed time,
prints calls/s and latency percentiles, and stops the sandbox.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sandbox.testing import running_sandbox

TOKEN = "7000001:bench-token"  # noqa: S105 (a sandbox token, not a secret)


async def drive(
    base: str, chat_id: int, connections: int, seconds: float, method: str
) -> tuple[int, int, list[float]]:
    url = f"{base}/bot{TOKEN}/{method}"
    params = {"chat_id": str(chat_id), "text": "benchmark message"}
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=connections, force_close=False)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            nonlocal errors
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                async with session.post(url, params=params) as response:
                    await response.read()
                    if response.status != 200:
                        errors += 1
                latencies.append(time.perf_counter() - started)

        await asyncio.gather(*(worker() for _ in range(connections)))
    return len(latencies), errors, latencies


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--method", default="sendMessage")
    args = parser.parse_args()
    with running_sandbox(enabled=False) as sb:
        sb.create_bot(TOKEN, "bench_bot")
        owner = sb.create_user("Owner")
        chat = sb.create_chat("supergroup", title="Bench", owner_id=owner["id"])
        sb.add_bot("bench_bot", chat["id"], status="administrator")
        started = time.perf_counter()
        count, errors, latencies = asyncio.run(
            drive(sb.bot_api_url, chat["id"], args.connections, args.seconds, args.method)
        )
        elapsed = time.perf_counter() - started
    quantiles = statistics.quantiles(latencies, n=100)
    print(
        f"{args.method}: {count / elapsed:,.0f} calls/s over {elapsed:.1f} s "
        f"({count} calls, {errors} errors, {args.connections} keep-alive connections)"
    )
    print(f"latency p50 {quantiles[49] * 1000:.2f} ms, p99 {quantiles[98] * 1000:.2f} ms")


if __name__ == "__main__":
    main()
