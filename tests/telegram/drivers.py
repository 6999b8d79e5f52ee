"""Code run in child processes by the budget tests: a product process sending messages.

Spawned (not forked) so each child starts as a worker does: its own interpreter, Django set up
from the environment, its own Redis and HTTP connections.
"""

from __future__ import annotations

import heapq
import os
import time
from typing import Any


def send_all(env: dict[str, str], token: str, chat_ids: list[int], barrier: Any, out: Any) -> None:
    """Send one message to each chat in turn. A RateLimited message comes back after its
    retry_after, as a task retried with that countdown would, while the others go on."""
    os.environ.update(env)
    import django

    django.setup()
    from apps.telegram.client import telebot_for_token
    from apps.telegram.errors import RateLimited, TelegramError

    telebot = telebot_for_token(token)
    queue = [(0.0, n, chat_id) for n, chat_id in enumerate(chat_ids)]
    rate_limited, errors = 0, []
    barrier.wait()
    while queue:
        not_before, n, chat_id = heapq.heappop(queue)
        time.sleep(max(0.0, not_before - time.monotonic()))
        try:
            telebot.send_message(chat_id, f"{os.getpid()}-{n}")
        except RateLimited as exc:
            rate_limited += 1
            heapq.heappush(queue, (time.monotonic() + exc.retry_after, n, chat_id))
        except TelegramError as exc:
            errors.append(repr(exc))
    out.put({"rate_limited": rate_limited, "errors": errors})
