#!/usr/bin/env python3
"""Start and stop the local stack (the sandbox and every Procfile process) in the background.

    python bin/stack.py up      start what is not running, wait until each answers, print URLs
    python bin/stack.py down    stop everything this script started
    python bin/stack.py status  show what runs

Logs go to var/log/<name>.log, pids to var/run/<name>.pid. Ports come from the environment:
WEB_PORT (8000), FLOWER_PORT (5555), SANDBOX_PORT (8081).
"""

from __future__ import annotations

import base64
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
LOG_DIR = ROOT / "var" / "log"
RUN_DIR = ROOT / "var" / "run"
WAIT_SECONDS = 60


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


def http_answers(url: str, auth: str | None = None) -> bool:
    request = urllib.request.Request(url)  # noqa: S310 - a loopback URL built here
    if auth:
        request.add_header("Authorization", "Basic " + base64.b64encode(auth.encode()).decode())
    try:
        with urllib.request.urlopen(request, timeout=2):  # noqa: S310
            return True
    except urllib.error.HTTPError as exc:
        return exc.code < 500
    except OSError:
        return False


def worker_answers(queue: str) -> bool:
    # A worker has connected to the broker and consumes once its log says so.
    log = LOG_DIR / f"worker_{queue}.log"
    return log.exists() and " ready." in log.read_text(errors="replace")


def beat_answers() -> bool:
    log = LOG_DIR / "beat.log"
    return log.exists() and "beat: Starting" in log.read_text(errors="replace")


def readiness() -> dict[str, Callable[[], bool]]:
    env = os.environ
    web = f"http://127.0.0.1:{env.get('WEB_PORT', '8000')}"
    flower = f"http://127.0.0.1:{env.get('FLOWER_PORT', '5555')}"
    sandbox = f"http://127.0.0.1:{env.get('SANDBOX_PORT', '8081')}"
    return {
        "sandbox": lambda: http_answers(f"{sandbox}/_sandbox/health"),
        "web": lambda: http_answers(f"{web}/live"),
        "worker_high": lambda: worker_answers("high"),
        "worker_normal": lambda: worker_answers("normal"),
        "worker_low": lambda: worker_answers("low"),
        "beat": beat_answers,
        "flower": lambda: http_answers(f"{flower}/healthcheck", env.get("FLOWER_BASIC_AUTH")),
    }


def up() -> int:
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    venv_bin = str(Path(sys.executable).parent)
    env = dict(os.environ, PATH=venv_bin + os.pathsep + os.environ.get("PATH", ""))
    for name, command in processes().items():
        if pid_of(name):
            print(f"  {name:14} already running")
            continue
        log = open(LOG_DIR / f"{name}.log", "wb")  # noqa: SIM115 - handed to the child
        child = subprocess.Popen(  # noqa: S603
            ["/bin/sh", "-c", f"exec {command}"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        (RUN_DIR / f"{name}.pid").write_text(str(child.pid))
        print(f"  {name:14} started (pid {child.pid})")

    checks = readiness()
    pending = [name for name in processes() if name in checks]
    deadline = time.monotonic() + WAIT_SECONDS
    while pending and time.monotonic() < deadline:
        for name in list(pending):
            if not pid_of(name):
                print(f"  {name:14} exited; see var/log/{name}.log", file=sys.stderr)
                return 1
            if checks[name]():
                pending.remove(name)
        time.sleep(0.3)
    if pending:
        print(f"  not answering after {WAIT_SECONDS}s: {', '.join(pending)}", file=sys.stderr)
        return 1

    env_get = os.environ.get
    print("\nThe stack is up:")
    print(f"  web        http://127.0.0.1:{env_get('WEB_PORT', '8000')}/admin/  (and /health)")
    print(f"  flower     http://127.0.0.1:{env_get('FLOWER_PORT', '5555')}/")
    if "sandbox" in processes():
        print(f"  sandbox    http://127.0.0.1:{env_get('SANDBOX_PORT', '8081')}/_sandbox/calls")
    print("  logs       var/log/   stop with: make down")
    return 0


def down() -> int:
    for name in reversed(list(processes())):
        pid = pid_of(name)
        if pid:
            os.killpg(pid, signal.SIGTERM)
            for _ in range(100):
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.1)
            else:
                os.killpg(pid, signal.SIGKILL)
            print(f"  {name:14} stopped")
        (RUN_DIR / f"{name}.pid").unlink(missing_ok=True)
    return 0


def status() -> int:
    for name in processes():
        pid = pid_of(name)
        print(f"  {name:14} {f'running (pid {pid})' if pid else 'stopped'}")
    return 0


if __name__ == "__main__":
    commands = {"up": up, "down": down, "status": status}
    if len(sys.argv) != 2 or sys.argv[1] not in commands:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(commands[sys.argv[1]]())
