"""Bot tokens out of whatever leaves a process: log lines, Sentry events.

A token is `<bot id>:<35 letters, digits, _ or ->`, and every Bot API URL carries one
(`/bot<token>/<method>`). The code never logs a URL or a token on purpose (apps/telegram/client.py
says how); this is the net under it, for the text of an exception from a library, a breadcrumb of
an HTTP call, a line some dependency logs at DEBUG.
"""

from __future__ import annotations

import re
from typing import Any

# The bot id is digits that no other digit precedes ("bot123:…" matches from the 1); the secret
# part is long, so times ("19:07:35") and ports never match.
TOKEN = re.compile(r"(?<![0-9])[0-9]{3,20}:[A-Za-z0-9_-]{20,}")
HIDDEN = "<bot token>"


def text(value: str) -> str:
    return TOKEN.sub(HIDDEN, value)


def everything(value: Any) -> Any:
    """`value` with every string in it (dict keys included, however deep) redacted."""
    if isinstance(value, str):
        return text(value)
    if isinstance(value, dict):
        return {everything(key): everything(item) for key, item in value.items()}
    if isinstance(value, list):
        return [everything(item) for item in value]
    if isinstance(value, tuple):
        return tuple(everything(item) for item in value)
    return value
