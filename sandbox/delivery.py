"""Getting updates to bots: getUpdates long polling, and webhook delivery with retries.

Each bot keeps its pending updates in `Bot.pending` (ordered by update_id). getUpdates confirms
them by offset; the webhook dispatcher removes each one once the webhook answered 2xx. The
dispatcher keeps at most `max_connections` requests in flight and never two for the same chat, so
updates of one chat arrive in order; a failed update is retried after 1, 2, 4 ... seconds (capped),
and blocks only its own chat meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from typing import Any

import aiohttp

from sandbox import errors
from sandbox.errors import ApiError
from sandbox.limits import Settings
from sandbox.world import Bot, Update, Webhook, World, now

log = logging.getLogger("sandbox")


class Delivery:
    def __init__(self, world: World, settings: Settings) -> None:
        self.world = world
        self.settings = settings
        self._poll_events: dict[int, asyncio.Event] = {}
        self._pollers: dict[int, object] = {}
        self._wake: dict[int, asyncio.Event] = {}
        self._dispatchers: dict[int, asyncio.Task[None]] = {}
        self._in_flight: dict[int, set[asyncio.Task[None]]] = {}
        self.attempts: dict[int, list[dict[str, Any]]] = {}
        self._session: aiohttp.ClientSession | None = None
        world.on_update = self.notify

    def notify(self, bot: Bot, update: Update) -> None:
        event = self._wake.get(bot.id) if bot.webhook else self._poll_events.get(bot.id)
        if event is not None:
            event.set()

    async def close(self) -> None:
        for bot_id in list(self._dispatchers):
            self._stop(bot_id)
        for event in self._poll_events.values():
            event.set()
        if self._session is not None:
            await self._session.close()
            self._session = None

    def rebind(self, world: World) -> None:
        """Forget every bot (after a reset) and serve `world` from now on."""
        for bot_id in list(self._dispatchers):
            self._stop(bot_id)
        for event in self._poll_events.values():
            event.set()
        self._pollers.clear()
        self.attempts.clear()
        self.world = world
        world.on_update = self.notify

    # ---- getUpdates -----------------------------------------------------------------------

    async def get_updates(
        self, bot: Bot, offset: int | None, limit: int, timeout: int
    ) -> list[Update]:
        pending = bot.pending
        if offset is not None:
            if offset < 0:
                keep = list(pending)[offset:]
                for update_id in list(pending):
                    if update_id not in keep:
                        del pending[update_id]
            else:
                for update_id in list(pending):
                    if update_id >= offset:
                        break
                    del pending[update_id]
        ready = list(pending.values())[:limit]
        if ready or timeout <= 0:
            return ready
        token = object()
        self._pollers[bot.id] = token
        previous = self._poll_events.get(bot.id)
        if previous is not None:
            previous.set()  # the older long poll ends with a Conflict
        event = asyncio.Event()
        self._poll_events[bot.id] = event
        try:
            await asyncio.wait_for(event.wait(), timeout)
        except TimeoutError:
            pass
        finally:
            if self._poll_events.get(bot.id) is event:
                del self._poll_events[bot.id]
        if self._pollers.get(bot.id) is not token:
            if bot.id in self.world.bots and self.world.bots[bot.id] is bot:
                raise ApiError(409, errors.CONFLICT_OTHER_GETUPDATES)
            return []
        if bot.webhook is not None:
            raise ApiError(409, errors.CONFLICT_WEBHOOK)
        return list(bot.pending.values())[:limit]

    # ---- webhooks -------------------------------------------------------------------------

    def set_webhook(self, bot: Bot, url: str, secret: str | None, max_connections: int) -> None:
        previous = bot.webhook
        bot.webhook = Webhook(url=url, secret_token=secret, max_connections=max_connections)
        if previous is not None and previous.url == url:
            bot.webhook.last_error_date = previous.last_error_date
            bot.webhook.last_error_message = previous.last_error_message
        event = self._poll_events.get(bot.id)
        if event is not None:
            event.set()
        for update in bot.pending.values():
            update.next_attempt = 0.0
        if bot.id not in self._dispatchers:
            self._wake[bot.id] = asyncio.Event()
            self._in_flight[bot.id] = set()
            self._dispatchers[bot.id] = asyncio.get_running_loop().create_task(self._dispatch(bot))
        self._wake[bot.id].set()

    def delete_webhook(self, bot: Bot) -> None:
        bot.webhook = None
        self._stop(bot.id)

    def _stop(self, bot_id: int) -> None:
        task = self._dispatchers.pop(bot_id, None)
        if task is not None:
            task.cancel()
        for flight in self._in_flight.pop(bot_id, set()):
            flight.cancel()
        self._wake.pop(bot_id, None)

    def _session_for_hooks(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=0, limit_per_host=0),
                auto_decompress=False,
            )
        return self._session

    async def _dispatch(self, bot: Bot) -> None:
        wake = self._wake[bot.id]
        flights = self._in_flight[bot.id]
        loop = asyncio.get_running_loop()
        while bot.webhook is not None:
            wake.clear()
            current = loop.time()
            next_due: float | None = None
            seen: set[int] = set()
            for update in list(bot.pending.values()):
                if len(flights) >= bot.webhook.max_connections:
                    break
                if update.chat_key in seen:
                    continue
                seen.add(update.chat_key)
                if update.in_flight:
                    continue
                if update.next_attempt > current:
                    next_due = min(next_due or update.next_attempt, update.next_attempt)
                    continue
                update.in_flight = True
                task = loop.create_task(self._deliver(bot, bot.webhook, update))
                flights.add(task)
                task.add_done_callback(flights.discard)
            timeout = None if next_due is None else max(next_due - current, 0.001)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), timeout)

    async def _deliver(self, bot: Bot, webhook: Webhook, update: Update) -> None:
        settings = self.settings
        body = json.dumps(update.api(), ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json"}
        if webhook.secret_token:
            headers["X-Telegram-Bot-Api-Secret-Token"] = webhook.secret_token
        started = time.monotonic()
        status: int | None = None
        error: str | None = None
        try:
            async with self._session_for_hooks().post(
                webhook.url,
                data=body,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=settings.webhook_timeout),
            ) as response:
                status = response.status
                await response.read()
                if not 200 <= status < 300:
                    error = f"Wrong response from the webhook: {status} {response.reason}"
        except TimeoutError:
            error = "Read timeout expired"
        except aiohttp.ClientConnectorError:
            error = "Connection refused"
        except aiohttp.ClientError as exc:
            error = f"Connection error: {type(exc).__name__}"
        update.attempts += 1
        update.in_flight = False
        self.attempts.setdefault(bot.id, []).append(
            {
                "update_id": update.update_id,
                "attempt": update.attempts,
                "time": time.time(),
                "status": status,
                "error": error,
                "duration_ms": round((time.monotonic() - started) * 1000, 2),
            }
        )
        if error is None:
            bot.pending.pop(update.update_id, None)
        else:
            webhook.last_error_date = now()
            webhook.last_error_message = error
            backoff = min(
                settings.webhook_backoff_cap,
                settings.webhook_backoff_initial * 2 ** (update.attempts - 1),
            )
            update.next_attempt = asyncio.get_running_loop().time() + settings.scaled(backoff)
        wake = self._wake.get(bot.id)
        if wake is not None:
            wake.set()

    def report(self, bot: Bot) -> dict[str, Any]:
        attempts = self.attempts.get(bot.id, [])
        webhook = bot.webhook
        return {
            "url": webhook.url if webhook else "",
            "secret_token": webhook.secret_token if webhook else None,
            "max_connections": webhook.max_connections if webhook else None,
            "pending_update_count": len(bot.pending),
            "pending": list(bot.pending),
            "in_flight": len(self._in_flight.get(bot.id, ())),
            "last_error_date": webhook.last_error_date if webhook else None,
            "last_error_message": webhook.last_error_message if webhook else None,
            "deliveries": [a["update_id"] for a in attempts if a["error"] is None],
            "attempts": attempts,
            "failures": [a for a in attempts if a["error"] is not None],
        }
