"""Every Bot API call the sandbox received, in order, indexed by bot and by chat.

Answers are kept as the bytes sent on the wire and decoded only when read back, so logging costs
the hot path one tuple and two list appends.
"""

from __future__ import annotations

import bisect
import json
import time
from typing import Any, NamedTuple


class Entry(NamedTuple):
    seq: int
    time: float
    bot: str
    method: str
    params: dict[str, Any]
    status: int
    body: bytes
    chat_id: int | None


class CallLog:
    def __init__(self) -> None:
        self.entries: list[Entry] = []
        self._by_bot: dict[str, list[int]] = {}
        self._by_chat: dict[int, list[int]] = {}

    def clear(self) -> None:
        self.entries.clear()
        self._by_bot.clear()
        self._by_chat.clear()

    def add(
        self,
        bot: str,
        method: str,
        params: dict[str, Any],
        status: int,
        body: bytes,
        chat_id: int | None,
    ) -> None:
        index = len(self.entries)
        self.entries.append(
            Entry(index + 1, time.time(), bot, method, params, status, body, chat_id)
        )
        self._by_bot.setdefault(bot, []).append(index)
        if chat_id is not None:
            self._by_chat.setdefault(chat_id, []).append(index)

    def query(
        self,
        bot: str | None = None,
        method: str | None = None,
        chat_id: int | None = None,
        since: int = 0,
    ) -> list[dict[str, Any]]:
        candidates: list[int] | range
        if chat_id is not None:
            candidates = self._by_chat.get(chat_id, [])
        elif bot is not None:
            candidates = self._by_bot.get(bot, [])
        else:
            candidates = range(len(self.entries))
        start = bisect.bisect_right(candidates, since - 1) if since else 0
        wanted = method.lower() if method else None
        found = []
        for index in candidates[start:]:
            entry = self.entries[index]
            if bot is not None and entry.bot != bot:
                continue
            if wanted is not None and entry.method.lower() != wanted:
                continue
            found.append(
                {
                    "seq": entry.seq,
                    "time": entry.time,
                    "bot": entry.bot,
                    "method": entry.method,
                    "params": entry.params,
                    "chat_id": entry.chat_id,
                    "status": entry.status,
                    "response": json.loads(entry.body),
                }
            )
        return found
