"""Shared fixtures: real PostgreSQL and Redis, real Celery workers, the sandbox over HTTP."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

from gmbot.celery import app as celery_app
from gmbot.redis import get_redis

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session", autouse=True)
def _clean_test_redis() -> None:
    """The tests own their Redis database (REDIS_URL in `make test`); start it empty."""
    get_redis().flushdb()


@pytest.fixture(scope="session", autouse=True)
def _static_files_without_collectstatic() -> Iterator[None]:
    """In-process tests render admin pages with DEBUG off and no collectstatic, which the
    manifest storage refuses (as Django's docs warn); processes started by the tests keep the
    real storage."""
    from django.test import override_settings

    storages = {**settings.STORAGES, "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # fmt: skip
    with override_settings(STORAGES=storages):
        yield


@pytest.fixture
def redis_client():
    client = get_redis()
    yield client
    client.flushdb()


def database_url_for_children() -> str:
    """The test database, as a URL a child process (a worker) can use."""
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def child_env(**extra: str) -> dict[str, str]:
    """The environment of a product process (worker, web) started by a test: the test database,
    the test Redis, the sandbox; `extra` overrides any of them."""
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url_for_children(),
        REDIS_URL=settings.REDIS_URL,
        CELERY_BROKER_URL=celery_app.conf.broker_url,
        CELERY_RESULT_BACKEND=str(celery_app.conf.result_backend),
        TELEGRAM_API_URL=settings.TELEGRAM_API_URL,
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


class WorkerProcess:
    """A `celery worker` subprocess consuming the given queues, as the Procfile runs them."""

    def __init__(
        self, queues: list[str], concurrency: int, pool: str, log: Path, env: dict[str, str]
    ) -> None:
        self.hostname = f"test-{'-'.join(queues)}-{uuid.uuid4().hex[:6]}@localhost"
        self.log = log
        command = [
            sys.executable, "-m", "celery", "-A", "gmbot", "worker",
            "-Q", ",".join(queues), "-n", self.hostname, "-P", pool,
            "--concurrency", str(concurrency), "--loglevel", "INFO", "--without-mingle",
            "--without-gossip",
        ]  # fmt: skip
        self._log_file = open(log, "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=child_env(**env), stdout=self._log_file, stderr=subprocess.STDOUT
        )

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"worker exited:\n{self.log.read_text()[-3000:]}")
            # Celery logs "<hostname> ready." once it consumes; this works whatever the broker.
            if f"{self.hostname} ready." in self.log.read_text(errors="replace"):
                return
            time.sleep(0.1)
        raise RuntimeError(f"worker not ready:\n{self.log.read_text()[-3000:]}")

    def child_pids(self) -> list[int]:
        out = subprocess.run(
            ["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True, check=False
        ).stdout
        return [int(pid) for pid in out.split()]

    def stop(self) -> None:
        stop_all([self.process])
        self._log_file.close()


def stop_all(processes: list[subprocess.Popen[bytes]], timeout: float = 15) -> None:
    """Ask every process to stop (SIGTERM: a warm shutdown), then wait for them together, so
    a test's teardown takes as long as its slowest process rather than their sum. One still
    running after `timeout` is killed."""
    running = [process for process in processes if process.poll() is None]
    for process in running:
        process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for process in running:
        try:
            process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def start_worker(tmp_path: Path) -> Iterator[Callable[..., WorkerProcess]]:
    """Start real worker processes; every one is stopped when the test ends."""
    started: list[WorkerProcess] = []

    def start(
        queues: list[str], concurrency: int = 1, pool: str = "prefork", **env: str
    ) -> WorkerProcess:
        log = tmp_path / f"worker-{len(started)}.log"
        worker = WorkerProcess(queues, concurrency, pool, log, env)
        started.append(worker)
        worker.wait_ready()
        return worker

    yield start
    stop_all([worker.process for worker in started])
    for worker in started:
        worker.stop()


@pytest.fixture(scope="session")
def sandbox_server():
    """One sandbox (the local Telegram) for the whole run, over real HTTP."""
    from sandbox.testing import running_sandbox

    with running_sandbox() as sandbox:
        yield sandbox


@pytest.fixture
def sandbox(sandbox_server, settings):
    """The sandbox emptied for this test, with the product's client pointed at it."""
    from apps.telegram import client

    sandbox_server.reset()
    settings.TELEGRAM_API_URL = sandbox_server.bot_api_url
    client.configure()
    yield sandbox_server


@pytest.fixture
def make_bot(sandbox):
    """A bot that exists both in the sandbox's Telegram and in GMBot's database."""
    from tests.factories import BotFactory

    counter = iter(range(1, 1000))

    def make(username: str | None = None, **fields):
        n = next(counter)
        telegram_id = 7_100_000_000 + n
        username = username or f"gm_test{n}_bot"
        token = f"{telegram_id}:sandbox-token-{username}"
        sandbox.create_bot(token=token, username=username)
        return BotFactory(telegram_id=telegram_id, username=username, token=token, **fields)

    return make


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(predicate: Callable[[], object], timeout: float = 20, interval: float = 0.1):
    """Poll until `predicate()` is truthy and return its value; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not true after {timeout}s: {predicate}")
        time.sleep(interval)


class RedisServer:
    """A redis-server of the test's own on a spare port, to stop and start at will. `options`
    (e.g. "--appendonly", "yes") come after the defaults, so they win."""

    def __init__(self, workdir: Path, options: tuple[str, ...] = ()) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.workdir = workdir
        self.options = options
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.workdir), *self.options],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        import redis

        wait_until(lambda: _pings(redis.Redis(port=self.port)), timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


def _pings(client) -> bool:
    try:
        return bool(client.ping())
    except Exception:
        return False


@pytest.fixture
def spare_redis(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


class WebProcess:
    """The `web` process of the Procfile (gunicorn) on a spare port."""

    def __init__(self, log: Path, env: dict[str, str]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._log_file = open(log, "wb")  # noqa: SIM115 - closed in stop()
        self.log = log
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "gmbot.wsgi:application", "--config",
             "gunicorn.conf.py"],
            cwd=ROOT, stdout=self._log_file, stderr=subprocess.STDOUT,
            env=child_env(WEB_BIND=f"127.0.0.1:{self.port}", **env),
        )  # fmt: skip
        import requests

        def answers() -> bool:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited:\n{log.read_text()[-3000:]}")
            try:
                return requests.get(f"{self.url}/live", timeout=1).status_code == 200
            except requests.RequestException:
                return False

        wait_until(answers, timeout=30)

    def stop(self) -> None:
        stop_all([self.process])
        self._log_file.close()


@pytest.fixture
def start_web(tmp_path: Path) -> Iterator[Callable[..., WebProcess]]:
    started: list[WebProcess] = []

    def start(**env: str) -> WebProcess:
        web = WebProcess(tmp_path / f"web-{len(started)}.log", {"WEB_CONCURRENCY": "2", **env})
        started.append(web)
        return web

    yield start
    stop_all([web.process for web in started])
    for web in started:
        web.stop()


@pytest.fixture(scope="session")
def django_db_modify_db_settings() -> None:
    """Each test run gets a database of its own (test_<name>_<pid>), so runs may overlap."""
    test = settings.DATABASES["default"].setdefault("TEST", {})
    test["NAME"] = f"test_{settings.DATABASES['default']['NAME']}_{os.getpid()}"


@pytest.fixture
def test_features(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The registry with the tests' own features (tests/features.py) for one test."""
    from apps.bots import features
    from tests import features as ours

    monkeypatch.setattr(features, "_declared", dict(features._declared))
    for feature in (ours.FLAKY, ours.AUDIT, ours.POINTS):
        features.declare(feature)
    ours.SEEN.clear()
    yield ours
    ours.SEEN.clear()


def copy_of_the_checkout(destination: Path) -> Path:
    """The repository as a fresh clone has it: no .env, no var/, no collected static files, no
    virtualenv (the copy runs with this one's Python)."""
    import shutil

    leave_out = shutil.ignore_patterns(
        ".git", ".venv", "var", "staticfiles", ".env", "__pycache__", ".*_cache"
    )
    shutil.copytree(ROOT, destination, ignore=leave_out)
    return destination
