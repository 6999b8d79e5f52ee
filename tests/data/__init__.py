"""Data the tests read, kept in the repository so a fresh clone runs every test:

- `telegram-updates/`: real Telegram update payloads (SOURCES.md says where each came from);
  every one must pass through the webhook.
- `telegram-bot-api/api.json`: the Bot API 10.1 description, machine-readable (README.md says
  where it came from), that the sandbox's answers are checked against.
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent
UPDATES_DIR = HERE / "telegram-updates"
BOT_API_SPEC = HERE / "telegram-bot-api" / "api.json"
