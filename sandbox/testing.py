"""Run the sandbox in a subprocess for a test session.

with running_sandbox(time_scale=10) as sb:
    telebot.apihelper.API_URL = sb.bot_api_url + "/bot{0}/{1}"
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import requests

from sandbox.client import Sandbox


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def running_sandbox(
    port: int | None = None, startup_timeout: float = 15.0, **settings: Any
) -> Iterator[Sandbox]:
    """Start `python -m sandbox` on 127.0.0.1 (a free port unless given), wait until it is
    healthy, yield a client, and stop it on exit. `settings` become its initial (and post-reset)
    limits, e.g. time_scale=10 or enabled=False."""
    port = port or free_port()
    root = str(Path(__file__).resolve().parent.parent)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])),
    }
    # A file, not a pipe: a pipe nobody reads would block the server once it filled up.
    log = tempfile.TemporaryFile()  # noqa: SIM115 (closed in the finally below)
    process = subprocess.Popen(  # noqa: S603 (argv is sys.executable and our own values)
        [
            sys.executable,
            "-m",
            "sandbox",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--settings",
            json.dumps(settings),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    client = Sandbox(f"http://127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + startup_timeout
        while True:
            if process.poll() is not None:
                log.seek(0)
                stderr = log.read().decode(errors="replace")
                raise RuntimeError(f"the sandbox exited with {process.returncode}: {stderr}")
            try:
                if client.health():
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"the sandbox did not answer on port {port}")
            time.sleep(0.05)
        yield client
    finally:
        client.session.close()
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
