"""What the benchmarks that run GMBot's own processes share: the environment, a free port,
gunicorn, manage.py, the stack's other processes and waiting for them."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def production_env(database: str, redis_url: str, **extra: str) -> dict[str, str]:
    """Settings as in production (DEBUG off, fresh keys) on loopback, with the benchmark's own
    database and Redis database, so a run never touches the local stack's data."""
    from cryptography.fernet import Fernet

    return dict(
        os.environ,
        PATH=str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""),
        DEBUG="0",
        SECRET_KEY="bench-" + Fernet.generate_key().decode(),
        BOT_TOKEN_KEYS=Fernet.generate_key().decode(),
        SECURE_SSL_REDIRECT="0",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{database}",
        REDIS_URL=redis_url,
        CELERY_BROKER_URL="",
        CELERY_RESULT_BACKEND="",
        LOG_LEVEL="WARNING",
        **extra,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_gunicorn(app: str, env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    """gunicorn with gunicorn.conf.py, as the Procfile runs it, once it answers on `port`."""
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", app, "--config", "gunicorn.conf.py"],
        cwd=ROOT, env=dict(env, WEB_BIND=f"127.0.0.1:{port}"),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/live", timeout=1)
            return process
        except urllib.error.HTTPError:
            return process  # answering (the ok app has no /live route semantics)
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"gunicorn ({app}) did not start")


def manage(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    """`manage.py` in `env`; its output (raises when it fails)."""
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT, env=env, input=stdin, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip


def spawn(stack: ExitStack, env: dict[str, str], logs: Path, name: str, command: list[str]) -> Any:
    """Start `command` with its output in `logs/<name>.log`; `stack` stops it (TERM, then KILL)."""
    log = stack.enter_context(open(logs / f"{name}.log", "wb"))  # noqa: SIM115
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)

    def stop() -> None:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()

    stack.callback(stop)
    return process


def wait(
    predicate: Callable[[], Any],
    timeout: float,
    what: str,
    interval: float = 0.5,
    retry_on: tuple[type[BaseException], ...] = (OSError,),
) -> Any:
    """Poll `predicate` until it is truthy and return its value (an exception in `retry_on`, a
    connection refused say, counts as not yet); stop the benchmark after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = predicate()
        except retry_on:
            value = None
        if value:
            return value
        time.sleep(interval)
    raise SystemExit(f"bench: {what} not done after {timeout:.0f}s")
