#!/usr/bin/env python3
"""The scripted demonstration behind `make demo`, run against the stack `make up` started.

It plays a user's part in the sandbox (the local Telegram) and shows what GMBot did in answer.
Each feature adds its scene to SCENES.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sandbox.client import Sandbox  # noqa: E402

DEMO_BOT_TOKEN = "7000000001:gmbot-demo-token-for-the-sandbox-only"  # noqa: S105 - sandbox only
DEMO_BOT_USERNAME = "gmbot_demo_bot"


def say(text: str) -> None:
    print(f"\n== {text}")


def manage(*args: str, stdin: str | None = None) -> str:
    result = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", *args],
        cwd=ROOT, input=stdin, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return result.stdout


def scene_add_bot(sandbox: Sandbox) -> None:
    say("A bot is created in the sandbox's Telegram and added to GMBot with its token")
    sandbox.create_bot(token=DEMO_BOT_TOKEN, username=DEMO_BOT_USERNAME)
    # The token goes in on stdin, never on a command line.
    out = manage("addbot", "--token", "-", stdin=DEMO_BOT_TOKEN + "\n")
    for line in out.splitlines():
        print("  " + (line.split(":")[0] + ": (hidden in the demo)" if "secret" in line else line))
    calls = sandbox.calls(method="getMe")
    print(f"  GMBot checked the token with getMe: {len(calls)} call(s) seen by the sandbox")


SCENES: list[Callable[[Sandbox], None]] = [scene_add_bot]


def main() -> int:
    port = os.environ.get("SANDBOX_PORT", "8081")
    sandbox = Sandbox(f"http://127.0.0.1:{port}")
    sandbox.reset()
    for scene in SCENES:
        scene(sandbox)
    web = os.environ.get("WEB_PORT", "8000")
    say("Where to look")
    print(f"  admin    http://127.0.0.1:{web}/admin/   (create a login: make createsuperuser)")
    print(f"  health   http://127.0.0.1:{web}/health")
    print(f"  flower   http://127.0.0.1:{os.environ.get('FLOWER_PORT', '5555')}/")
    print(f"  sandbox  http://127.0.0.1:{port}/_sandbox/calls  (every Bot API call GMBot made)")
    print("  stop everything with: make down")
    return 0


if __name__ == "__main__":
    sys.exit(main())
