#!/usr/bin/env python3
"""Start and stop the local stack (the sandbox and every Procfile process) in the background.

    python bin/stack.py up      start what is not running, wait until each answers, print URLs
    python bin/stack.py down    stop everything this script started
    python bin/stack.py status  show what runs
    python bin/stack.py where   the URLs and the logins

Settings come from the environment and `.env` (read by gmbot/env.py, as every process reads it).
Logs go to $GMBOT_VAR_DIR/log/<name>.log and pids to $GMBOT_VAR_DIR/run/<name>.pid (default
var/). Ports: WEB_PORT (8000), FLOWER_PORT (5555), SANDBOX_PORT (8081).
"""

from __future__ import annotations

import base64
import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gmbot.env import env, envbool  # noqa: E402 - loads .env into this process's environment

VAR_DIR = Path(env("GMBOT_VAR_DIR", str(ROOT / "var")))
LOG_DIR = VAR_DIR / "log"
RUN_DIR = VAR_DIR / "run"
WAIT_SECONDS = 60
LOG_LINES_SHOWN = 15


def procfile() -> dict[str, str]:
    processes: dict[str, str] = {}
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, command = line.split(":", 1)
            processes[name.strip()] = command.strip()
    return processes


def processes() -> dict[str, str]:
    found: dict[str, str] = {}
    if (ROOT / "sandbox" / "__main__.py").exists():
        found["sandbox"] = f"{sys.executable} -m sandbox --port ${{SANDBOX_PORT:-8081}}"
    found.update(procfile())
    return found


def pid_of(name: str) -> int | None:
    pidfile = RUN_DIR / f"{name}.pid"
    try:
        pid = int(pidfile.read_text())
        os.kill(pid, 0)
    except (FileNotFoundError, ValueError, ProcessLookupError):
        return None
    return pid


class NotReady(Exception):
    """The process answers, but with something waiting will not change (the message says it)."""


def http_status(url: str, auth: str | None = None) -> int | None:
    request = urllib.request.Request(url)  # noqa: S310 - a loopback URL built here
    if auth:
        request.add_header("Authorization", "Basic " + base64.b64encode(auth.encode()).decode())
    try:
        with urllib.request.urlopen(request, timeout=2) as answer:  # noqa: S310
            return int(answer.status)
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return None  # not listening yet


def answers_ok(url: str, auth: str | None = None) -> bool:
    """Ready means 200 to a real request. A 4xx will not go away by waiting (a 400 is a host
    missing from ALLOWED_HOSTS, a 401 a login that does not work): it fails at once."""
    status = http_status(url, auth)
    if status is not None and 400 <= status < 500:
        hint = {400: " (is 127.0.0.1 in ALLOWED_HOSTS?)", 401: " (FLOWER_BASIC_AUTH)"}
        raise NotReady(f"answers {status} to {url}{hint.get(status, '')}")
    return status == 200


def log_says(name: str, text: str) -> bool:
    log = LOG_DIR / f"{name}.log"
    return log.exists() and text in log.read_text(errors="replace")


def readiness() -> dict[str, Callable[[], bool]]:
    web = f"http://127.0.0.1:{env('WEB_PORT', '8000')}"
    flower = f"http://127.0.0.1:{env('FLOWER_PORT', '5555')}"
    sandbox = f"http://127.0.0.1:{env('SANDBOX_PORT', '8081')}"
    return {
        "sandbox": lambda: answers_ok(f"{sandbox}/_sandbox/health"),
        # /ready answers 200 only once the database and Redis answer the web process.
        "web": lambda: answers_ok(f"{web}/ready"),
        # A worker has connected to the broker and consumes once its log says so.
        "worker_high": lambda: log_says("worker_high", " ready."),
        "worker_normal": lambda: log_says("worker_normal", " ready."),
        "worker_low": lambda: log_says("worker_low", " ready."),
        "beat": lambda: log_says("beat", "beat: Starting"),
        "flower": lambda: answers_ok(f"{flower}/healthcheck", env("FLOWER_BASIC_AUTH")),
    }


def last_lines(name: str) -> str:
    log = LOG_DIR / f"{name}.log"
    lines = log.read_text(errors="replace").splitlines() if log.exists() else []
    return "\n".join(f"    {line}" for line in lines[-LOG_LINES_SHOWN:])


def fail(name: str, problem: str, started: dict[str, subprocess.Popen[bytes]]) -> int:
    """Say what went wrong and where, then stop what this run started: nothing is left half up."""
    print(f"\n  {name} {problem}; the end of {LOG_DIR / name}.log:", file=sys.stderr)
    print(last_lines(name) or "    (empty)", file=sys.stderr)
    stop(list(started))
    print("  stopped what had started; fix the above and run it again", file=sys.stderr)
    return 1


def up() -> int:
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    venv_bin = str(Path(sys.executable).parent)
    # os.environ already holds .env's values (gmbot.env), so the Procfile's `${VAR:-default}`
    # sees them exactly as the Python processes do.
    child_env = dict(os.environ, PATH=venv_bin + os.pathsep + os.environ.get("PATH", ""))
    started: dict[str, subprocess.Popen[bytes]] = {}
    for name, command in processes().items():
        if pid_of(name):
            print(f"  {name:14} already running")
            continue
        with open(LOG_DIR / f"{name}.log", "wb") as log:
            started[name] = subprocess.Popen(  # noqa: S603
                ["/bin/sh", "-c", f"exec {command}"],
                cwd=ROOT,
                env=child_env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        (RUN_DIR / f"{name}.pid").write_text(str(started[name].pid))
        print(f"  {name:14} started (pid {started[name].pid})")

    try:
        problem = wait_until_ready(started)
    except KeyboardInterrupt:
        stop(list(started))
        return 130
    if problem:
        return fail(*problem, started)
    print("\nThe stack is up:")
    return where()


def wait_until_ready(started: dict[str, subprocess.Popen[bytes]]) -> tuple[str, str] | None:
    """Wait for every process just started to answer; the first that cannot, and why."""
    checks = readiness()
    pending = [name for name in started if name in checks]
    deadline = time.monotonic() + WAIT_SECONDS
    while pending and time.monotonic() < deadline:
        for name in list(pending):
            # poll() reaps the child: an exited process is seen at once, never as a zombie.
            status = started[name].poll()
            if status is not None:
                return name, f"exited (status {status})"
            try:
                if checks[name]():
                    pending.remove(name)
            except NotReady as exc:
                return name, str(exc)
        time.sleep(0.2)
    if pending:
        return pending[0], f"is not answering after {WAIT_SECONDS}s"
    return None


def gone(pid: int) -> bool:
    """Nothing is left of the process or of its group (gunicorn's and Celery's pool children)."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # reap it when it is our child (a failed `up`)
    try:
        os.killpg(pid, 0)  # each runs in a session of its own, so its pid is its group's id
    except ProcessLookupError:
        return True
    return False


def wait_until_gone(pids: dict[str, int], seconds: float) -> dict[str, int]:
    """Those of `pids` still there after waiting up to `seconds` for them to go."""
    deadline = time.monotonic() + seconds
    waiting = dict(pids)
    while waiting and time.monotonic() < deadline:
        waiting = {name: pid for name, pid in waiting.items() if not gone(pid)}
        if waiting:
            time.sleep(0.1)
    return waiting


def stop(names: list[str]) -> list[str]:
    """Stop the named processes together (each with its children: a process group), waiting
    up to 10 s before killing; returns the names that were running."""
    running = {name: pid for name in names if (pid := pid_of(name))}
    for pid in running.values():
        with contextlib.suppress(ProcessLookupError):  # it may have just gone by itself
            os.killpg(pid, signal.SIGTERM)
    waiting = wait_until_gone(running, seconds=10)
    for pid in waiting.values():
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
    # Until it is reaped a killed process still counts as running: wait for that too.
    wait_until_gone(waiting, seconds=5)
    for name in names:
        (RUN_DIR / f"{name}.pid").unlink(missing_ok=True)
    return list(running)


def down() -> int:
    for name in stop(list(reversed(processes()))):
        print(f"  {name:14} stopped")
    return 0


def status() -> int:
    for name in processes():
        pid = pid_of(name)
        print(f"  {name:14} {f'running (pid {pid})' if pid else 'stopped'}")
    return 0


def login(user: str, password: str, variables: str) -> str:
    """The local login to show. Printed in full only with DEBUG on, where it is the local one
    from .env.example; otherwise the user is pointed at the variables that hold it."""
    if not user or not password:
        return f"no login yet: set {variables} in .env"
    if envbool("DEBUG"):
        return f"log in as {user} / {password}"
    return f"log in with {variables} from .env"


def where() -> int:
    web = f"http://127.0.0.1:{env('WEB_PORT', '8000')}"
    flower_user, _, flower_password = env("FLOWER_BASIC_AUTH").split(",")[0].partition(":")
    admin = login(
        env("DJANGO_SUPERUSER_USERNAME"),
        env("DJANGO_SUPERUSER_PASSWORD"),
        "DJANGO_SUPERUSER_USERNAME and _PASSWORD",
    )
    print(f"  admin    {web}/admin/   {admin}")
    flower = login(flower_user, flower_password, "FLOWER_BASIC_AUTH")
    print(f"  flower   http://127.0.0.1:{env('FLOWER_PORT', '5555')}/   {flower}")
    print(f"  health   {web}/health")
    if "sandbox" in processes():
        sandbox = f"http://127.0.0.1:{env('SANDBOX_PORT', '8081')}"
        print(f"  sandbox  {sandbox}/_sandbox/calls   (every Bot API call GMBot made)")
    logs = LOG_DIR.relative_to(ROOT) if LOG_DIR.is_relative_to(ROOT) else LOG_DIR
    print(f"  logs     {logs}/   stop everything with: make down")
    return 0


if __name__ == "__main__":
    commands = {"up": up, "down": down, "status": status, "where": where}
    if len(sys.argv) != 2 or sys.argv[1] not in commands:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(commands[sys.argv[1]]())
