"""`make up` (bin/stack.py) on a fresh checkout: a copied .env.example starts every process, and
a process that cannot run fails the whole start within seconds, with its log's last lines,
leaving nothing running. Each run has its own ports, var dir, test database and test Redis."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import child_env, copy_of_the_checkout, free_port

pytestmark = [pytest.mark.slow, pytest.mark.django_db]


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A fresh checkout whose .env is .env.example as the README's `cp` makes it."""
    checkout = copy_of_the_checkout(tmp_path / "gmbot")
    shutil.copy(checkout / ".env.example", checkout / ".env")
    return checkout


def stack_env(checkout: Path, **extra: str) -> dict[str, str]:
    """What a test must set over the copied .env: the test's database and Redis, spare ports,
    its own var dir, and small pools for a shared 2-core machine."""
    env = child_env(
        GMBOT_VAR_DIR=str(checkout / "var"),
        WEB_PORT=str(free_port()), FLOWER_PORT=str(free_port()), SANDBOX_PORT=str(free_port()),
        WORKER_HIGH_CONCURRENCY="1", WORKER_NORMAL_CONCURRENCY="1",
        WORKER_LOW_CONCURRENCY="1",
        **extra,
    )  # fmt: skip
    env["TELEGRAM_API_URL"] = f"http://127.0.0.1:{env['SANDBOX_PORT']}"  # the stack's sandbox
    # Only what the test must set wins over .env: the rest comes from the copied file.
    from_the_file = {"ENV_FILE", "DEBUG", "SECRET_KEY", "BOT_TOKEN_KEYS", "FLOWER_BASIC_AUTH",
                     "CELERY_RESULT_BACKEND"} - set(extra)  # fmt: skip
    return {name: value for name, value in env.items() if name not in from_the_file}


def stack(checkout: Path, command: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "bin/stack.py", command],
        cwd=checkout, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def alive(pid: int) -> bool:
    """The process or any of its group (each runs in a session of its own) is still there."""
    try:
        os.killpg(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_copied_env_example_starts_every_process(checkout: Path):
    env = stack_env(checkout)
    try:
        up = stack(checkout, "up", env)

        assert up.returncode == 0, up.stdout + up.stderr
        started = re.findall(r"^  (\w+) +started \(pid \d+\)$", up.stdout, re.M)
        assert started == ["sandbox", "web", "worker_high", "worker_normal", "worker_low",
                           "beat", "flower"]  # fmt: skip
        # where to log in, with the local logins .env.example ships
        assert f"http://127.0.0.1:{env['WEB_PORT']}/admin/   log in as admin / gmbot-local" in (
            up.stdout
        )
        assert f"http://127.0.0.1:{env['FLOWER_PORT']}/   log in as admin / gmbot-local" in (
            up.stdout
        )
    finally:
        down = stack(checkout, "down", env)
    assert down.returncode == 0
    assert list((checkout / "var" / "run").iterdir()) == []


@pytest.mark.parametrize(
    ("problem", "env", "said"),
    [
        ("flower exits at once", {"FLOWER_BASIC_AUTH": ""}, "FLOWER_BASIC_AUTH must be"),
        ("web answers 400", {"ALLOWED_HOSTS": "gmbot.example.com"}, "ALLOWED_HOSTS"),
    ],
)
def test_up_fails_within_seconds_shows_why_and_leaves_nothing_running(
    checkout: Path, problem: str, env: dict[str, str], said: str
):
    start = time.monotonic()
    up = stack(checkout, "up", stack_env(checkout, **env))
    took = time.monotonic() - start

    assert up.returncode == 1, up.stdout + up.stderr
    assert took < 30, f"{problem}: noticed after {took:.0f}s"
    assert said in up.stderr  # the process's own words, from the end of its log
    pids = [int(pid) for pid in re.findall(r"started \(pid (\d+)\)", up.stdout)]
    assert len(pids) == 7
    assert not [pid for pid in pids if alive(pid)]
    assert list((checkout / "var" / "run").iterdir()) == []
