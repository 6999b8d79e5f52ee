"""The HTTP server: the Bot API at `/bot<token>/<method>` and the control API at `/_sandbox/`."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

from aiohttp import web

from sandbox import errors
from sandbox.calllog import CallLog
from sandbox.control import Control
from sandbox.delivery import Delivery
from sandbox.errors import ApiError
from sandbox.faults import Fault
from sandbox.limits import Limiter, Settings
from sandbox.methods import ALIASES, ASYNC_METHODS, METHOD_NAMES, BotApi, Call
from sandbox.world import SEND_METHODS, World, reset_clock

# Parameters Telegram reads as JSON-serialized objects.
JSON_PARAMS = frozenset(
    {
        "reply_markup",
        "permissions",
        "allowed_updates",
        "entities",
        "caption_entities",
        "reply_parameters",
        "message_ids",
        "commands",
        "scope",
        "link_preview_options",
    }
)
_JSON = "application/json"


def dumps(payload: Any) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


class Sandbox:
    """One emulated Telegram: world, delivery, limits, faults, and the call log."""

    def __init__(self, settings: dict[str, Any] | None = None) -> None:
        self.initial_settings = dict(settings or {})
        self.settings = Settings()
        self.settings.update(self.initial_settings)
        self.world = World()
        self.delivery = Delivery(self.world, self.settings)
        self.api = BotApi(self.world, self.delivery, self.settings)
        self.limiter = Limiter(self.settings)
        self.calls = CallLog()
        self.faults: list[Fault] = []

    def reset(self) -> None:
        reset_clock()
        self.settings.__init__()  # type: ignore[misc]
        self.settings.update(self.initial_settings)
        self.world = World()
        self.delivery.rebind(self.world)
        self.api.world = self.world
        self.limiter.reset()
        self.calls.clear()
        self.faults.clear()

    # ---- the Bot API ----------------------------------------------------------------------

    async def handle_bot_api(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        name = request.match_info["method"].lower()
        name = ALIASES.get(name, name)
        bot = self.world.bots_by_token.get(token)
        params, files = await _read_params(request)
        if bot is None:
            return _answer(ApiError(401, errors.UNAUTHORIZED).payload(), 401)
        method = METHOD_NAMES.get(name)
        if method is None:
            not_found = ApiError(404, errors.NOT_FOUND).payload()
            return self._log(bot.user.username or "", name, params, 404, not_found, None)
        call = Call(bot=bot, method=method, params=params, files=files)
        fault = self._fault(name, bot.token, bot.user.username or "", params.get("chat_id"))
        if fault is not None:
            if fault.delay_ms:
                await asyncio.sleep(fault.delay_ms / 1000)
            if fault.error_code:
                return self._fault_answer(call, fault)
        # Telegram's published limits count messages sent (about 30/s per bot, 20/min per
        # group, 1/s per private chat); it publishes none for other methods.
        if name in SEND_METHODS:
            chat_id, chat_type = self._limit_target(name, params)
            retry_after = self.limiter.check(
                bot.id, chat_id, chat_type, paid=call.get_bool("allow_paid_broadcast")
            )
            if retry_after:
                error = ApiError(
                    429,
                    errors.TOO_MANY_REQUESTS.format(retry_after=retry_after),
                    {"retry_after": retry_after},
                )
                return self._log_call(call, 429, error.payload(), chat_id)
        try:
            handler = getattr(self.api, name)
            result = await handler(call) if name in ASYNC_METHODS else handler(call)
        except ApiError as error:
            return self._log_call(call, error.error_code, error.payload(), call.chat_id)
        payload: dict[str, Any] = {"ok": True, "result": result}
        if call.description:
            payload["description"] = call.description
        return self._log_call(call, 200, payload, call.chat_id)

    def _fault(self, name: str, token: str, username: str, chat_id: Any) -> Fault | None:
        names = (token.lower(), username.lower())
        for fault in self.faults:
            if fault.matches(name, names, _int_or_none(chat_id)):
                if fault.times is not None:
                    fault.times -= 1
                return fault
        return None

    def _fault_answer(self, call: Call, fault: Fault) -> web.Response:
        parameters = dict(fault.parameters or {})
        if fault.retry_after is not None:
            parameters["retry_after"] = int(fault.retry_after)
        description = fault.description
        if fault.error_code == 429 and not description:
            description = errors.TOO_MANY_REQUESTS.format(
                retry_after=parameters.get("retry_after", 1)
            )
        error = ApiError(fault.error_code, description, parameters or None)
        chat_id = _int_or_none(call.params.get("chat_id"))
        return self._log_call(call, fault.error_code, error.payload(), chat_id)

    def _limit_target(self, name: str, params: dict[str, Any]) -> tuple[int | None, str | None]:
        if name not in SEND_METHODS:
            return None, None
        chat_id = _int_or_none(params.get("chat_id"))
        if chat_id is None:
            raw = params.get("chat_id")
            if isinstance(raw, str) and raw.startswith("@"):
                chat = self.world.chats_by_name.get(raw[1:].lower())
                return (chat.id, chat.type) if chat else (None, None)
            return None, None
        chat = self.world.chats.get(chat_id)
        if chat is not None:
            return chat_id, chat.type
        return (chat_id, "private") if chat_id > 0 else (None, None)

    def _log_call(
        self, call: Call, status: int, payload: dict[str, Any], chat_id: int | None
    ) -> web.Response:
        return self._log(
            call.bot.user.username or "", call.method, call.params, status, payload, chat_id
        )

    def _log(
        self,
        bot: str,
        method: str,
        params: dict[str, Any],
        status: int,
        payload: dict[str, Any],
        chat_id: int | None,
    ) -> web.Response:
        body = dumps(payload)
        self.calls.add(bot, method, params, status, body, chat_id)
        headers = None
        if status == 429:
            retry_after = (payload.get("parameters") or {}).get("retry_after")
            if retry_after is not None:
                headers = {"Retry-After": str(retry_after)}
        return web.Response(body=body, status=status, content_type=_JSON, headers=headers)

    def app(self) -> web.Application:
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self.handle_bot_api)
        Control(self).register(app.router)

        async def close(_app: web.Application) -> None:
            await self.delivery.close()

        app.on_cleanup.append(close)
        return app


async def _read_params(
    request: web.Request,
) -> tuple[dict[str, Any], dict[str, tuple[str, bytes]]]:
    params: dict[str, Any] = dict(request.query) if request.query_string else {}
    files: dict[str, tuple[str, bytes]] = {}
    if request.body_exists:
        content_type = request.content_type
        if content_type == _JSON:
            try:
                body = await request.json()
            except ValueError:
                body = None
            if isinstance(body, dict):
                params.update(body)
        elif content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    data = value.file.read()
                    files[key] = (value.filename, data)
                    params[key] = {"file_name": value.filename, "size": len(data)}
                else:
                    params[key] = value if isinstance(value, str) else value.decode()
    for key in JSON_PARAMS.intersection(params):
        value = params[key]
        if isinstance(value, str):
            with contextlib.suppress(ValueError):
                params[key] = json.loads(value)
    return params, files


def _answer(payload: dict[str, Any], status: int) -> web.Response:
    return web.Response(body=dumps(payload), status=status, content_type=_JSON)


def _int_or_none(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            return None
    return None
