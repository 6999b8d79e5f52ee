"""The one way this project talks to Telegram: pyTelegramBotAPI, configured from settings.

Nothing else builds HTTP calls to the Bot API. One TeleBot per bot per process; the base URL
comes from TELEGRAM_API_URL (the sandbox in tests, the demo and the benchmarks).

Every Bot API call a TeleBot makes goes through `send_request`, installed as pyTelegramBotAPI's
`apihelper.CUSTOM_REQUEST_SENDER`. For each call it
1. takes a slot in the shared budgets (ratelimit.acquire: may sleep briefly or raise RateLimited);
2. sends it through the process's keep-alive connection pool (apps/telegram/http.py: urllib3,
   a third of requests' CPU per call; a new pool after a fork);
3. classifies the answer into apps.telegram.errors and raises those, never telebot's own
   ApiTelegramException: 429 → RetryAfter, 5xx/timeout/connection → TransientError, 403 → the
   `on_unreachable` hooks run and Unreachable is raised, 400 → BadRequest with a named reason;
4. counts "already done" answers (errors.ALREADY_DONE) as success: the TeleBot method returns True;
5. follows a group's migration to a supergroup: the `on_migrated` hooks run and the call is
   repeated once with the new id.
It never retries otherwise: the task layer decides, from the exception class.

This app imports no other app of the project: what a 403 or a migration means for stored rows is
decided by the apps that store them (apps/chats registers its hooks in its AppConfig.ready()). A
hook that fails is logged and never changes the call's outcome.

URLs carry the bot token, so nothing here logs a URL or an HTTP exception's text: log lines
name the method, the bot's numeric id and the chat id.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, replace
from typing import Any

import urllib3
from django.conf import settings
from telebot import TeleBot, apihelper

from apps.telegram import http, outcomes, ratelimit, usage
from apps.telegram.errors import (
    ALREADY_DONE,
    BadRequest,
    ChatMigrated,
    OutcomeUnknown,
    RateLimited,
    RetryAfter,
    TelegramError,
    TransientError,
    Unreachable,
    forbidden_reason_for,
    reason_for,
)
from gmbot import metrics

logger = logging.getLogger(__name__)

_bots: dict[str, TeleBot] = {}


def configure() -> None:
    """Point pyTelegramBotAPI at TELEGRAM_API_URL with our timeouts and sender. Makes no call."""
    base = settings.TELEGRAM_API_URL
    # pyTelegramBotAPI declares these as None without a type; they take format strings.
    apihelper.API_URL = base + "/bot{0}/{1}"  # type: ignore[assignment]
    apihelper.FILE_URL = base + "/file/bot{0}/{1}"  # type: ignore[assignment]
    apihelper.CONNECT_TIMEOUT = settings.TELEGRAM_CONNECT_TIMEOUT
    apihelper.READ_TIMEOUT = settings.TELEGRAM_READ_TIMEOUT
    apihelper.CUSTOM_REQUEST_SENDER = send_request  # type: ignore[assignment]


def new_telebot(token: str) -> TeleBot:
    """A TeleBot of its own, for a caller that registers handlers on it (apps/bots' contexts).
    Handlers run in the calling thread (`threaded=False`), so a task sees their exceptions."""
    return TeleBot(token, threaded=False, skip_pending=False)


def telebot_for_token(token: str) -> TeleBot:
    """The process's TeleBot for this token, for calls only; created once, reused."""
    key = hashlib.sha256(token.encode()).hexdigest()
    bot = _bots.get(key)
    if bot is None:
        bot = _bots[key] = new_telebot(token)
    return bot


def answer_callback(
    telebot: TeleBot, query_id: str, text: str | None = None, *, alert: bool = False
) -> None:
    """Answer a button press. A press Telegram no longer takes an answer for (a job run again
    after the 15 s it allows, or answered already) is logged and left: what the press did is
    what matters."""
    try:
        telebot.answer_callback_query(query_id, text, show_alert=alert)
    except BadRequest as exc:
        if exc.reason != "query_too_old":
            raise
        logger.info("callback %s answered too late", query_id)


# ---- hooks: what other apps do when Telegram says a chat is gone or moved ---------------------


@dataclass(frozen=True)
class Refusal:
    """Telegram answered 403 Forbidden: the bot cannot reach this chat (or user) any more."""

    bot_telegram_id: int
    chat_id: int
    reason: str  # errors.forbidden_reason_for: blocked, kicked, not_member, …
    description: str  # Telegram's own words


@dataclass(frozen=True)
class Migration:
    """A group became a supergroup: `old_chat_id` is now `new_chat_id`."""

    bot_telegram_id: int
    old_chat_id: int
    new_chat_id: int


_unreachable_hooks: list[Callable[[Refusal], None]] = []
_migrated_hooks: list[Callable[[Migration], None]] = []


def on_unreachable(hook: Callable[[Refusal], None]) -> None:
    """Run `hook` whenever Telegram refuses a call with 403 (before Unreachable is raised)."""
    if hook not in _unreachable_hooks:
        _unreachable_hooks.append(hook)


def on_migrated(hook: Callable[[Migration], None]) -> None:
    """Run `hook` whenever a call finds its group migrated (before the call is repeated)."""
    if hook not in _migrated_hooks:
        _migrated_hooks.append(hook)


def _run_hooks(hooks: list[Callable[[Any], None]], event: Refusal | Migration) -> None:
    for hook in hooks:
        try:
            hook(event)
        except Exception:
            # The caller still gets its answer (Unreachable, or the repeated call); the hook's
            # work is bookkeeping that the next refusal or migration does again.
            logger.warning("telegram: %s hook %s failed", type(event).__name__, hook.__qualname__,
                           exc_info=True)  # fmt: skip


def reset_sessions() -> None:
    """Drop the connections this process inherited; called in every forked worker child. The
    parent's sockets are left alone (not closed): the parent still owns them."""
    http.reset()


@dataclass(frozen=True)
class Outcome:
    """How a call ended, as the metrics will count it.

    result: ok, already_done (reason says which), or the error: retry_after, rate_limited,
    transient, unreachable, bad_request, migrated."""

    method: str
    chat_id: int | str | None
    result: str
    reason: str = ""


_last_outcome: ContextVar[Outcome | None] = ContextVar("telegram_last_outcome", default=None)


def last_outcome() -> Outcome | None:
    """The outcome of the last call made in this context (thread, task), e.g. to tell a deletion
    from an already-deleted message: `Outcome(result="already_done", reason="already_deleted")`."""
    return _last_outcome.get()


@dataclass(frozen=True)
class _Call:
    bot_id: int  # the bot's Telegram id, the number before the token's colon
    method: str
    chat_id: int | str | None


def send_request(
    method: str,
    url: str,
    params: dict[str, Any] | None = None,
    files: dict[str, Any] | None = None,
    timeout: Any = None,
    proxies: Any = None,
) -> http.Answer:
    """pyTelegramBotAPI's CUSTOM_REQUEST_SENDER: every Bot API call passes here (see the module
    docstring). Returns the answer for telebot to parse, or raises a TelegramError. `proxies`
    (telebot's apihelper.proxy, never set here) is not used: the proxy comes from the
    environment (apps/telegram/http.py)."""
    call = _parse(url, params)
    try:
        return _exchange(call, method, url, params, files, timeout)
    except ChatMigrated as migrated:
        if not isinstance(call.chat_id, int):
            raise
        _follow_migration(call, migrated.new_chat_id)
        params = {**(params or {}), "chat_id": migrated.new_chat_id}
        _rewind(files)
        moved = replace(call, chat_id=migrated.new_chat_id)
        # A second failure, even another migration, is raised: the call is repeated only once.
        return _exchange(moved, method, url, params, files, timeout)


def _exchange(
    call: _Call,
    method: str,
    url: str,
    params: dict[str, Any] | None,
    files: dict[str, Any] | None,
    timeout: Any,
) -> http.Answer:
    try:
        if ratelimit.acquire(call.bot_id, call.method, call.chat_id):
            metrics.rate_limit_delay("budget_wait")
        try:
            response = http.send(method, url, params, files, timeout)
        except urllib3.exceptions.NewConnectionError as exc:  # before its base, ConnectTimeoutError
            raise _unreachable(call, exc) from None
        except urllib3.exceptions.ConnectTimeoutError as exc:
            raise TransientError(
                f"Timeout: could not reach the Bot API ({type(exc).__name__})",
                call.method,
                None,
                call.chat_id,
            ) from None  # the exception's text holds the URL, and so the token
        except urllib3.exceptions.ReadTimeoutError:
            # The request was sent: Telegram may have acted on it. outcomes.py decides per method.
            raise outcomes.after_read_timeout(call.method, call.chat_id) from None
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise _unreachable(call, exc) from None
        return _classify(call, response)
    except TelegramError as exc:
        _observe(call, _ERROR_RESULTS.get(type(exc), "error"), getattr(exc, "reason", ""), exc)
        raise


def _unreachable(call: _Call, exc: Exception) -> TransientError:
    """A connection refused, reset or cut mid-answer: a TransientError naming only the error's
    class (its text holds the URL, and so the token)."""
    return TransientError(
        f"Connection error: the Bot API is unreachable ({type(exc).__name__})",
        call.method,
        None,
        call.chat_id,
    )


def _classify(call: _Call, response: http.Answer) -> http.Answer:
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        description = f"HTTP {response.status_code} without a Bot API answer"
        if response.status_code >= 500 or response.status_code in (200, 429):
            raise TransientError(description, call.method, response.status_code, call.chat_id)
        raise BadRequest(description, call.method, response.status_code, call.chat_id)
    if body.get("ok") is True:
        _observe(call, "ok")
        return response

    code = int(body.get("error_code") or response.status_code)
    description = str(body.get("description") or f"HTTP {code}")
    parameters = body.get("parameters") or {}
    where = (call.method, code, call.chat_id)
    if code == 429:
        retry_after = parameters.get("retry_after") or response.headers.get("Retry-After") or 1
        raise RetryAfter(description, *where, retry_after=int(retry_after))
    if code >= 500:
        raise TransientError(description, *where)
    if code == 403:
        reason = forbidden_reason_for(description)
        _mark_unreachable(call, reason, description)
        raise Unreachable(description, *where, reason=reason)
    if "migrate_to_chat_id" in parameters:
        raise ChatMigrated(description, *where, new_chat_id=int(parameters["migrate_to_chat_id"]))
    reason = _OTHER_REASONS.get(code) or reason_for(description)
    if reason in ALREADY_DONE.get(call.method, ()):
        _observe(call, "already_done", reason)
        return _done()
    raise BadRequest(description, *where, reason=reason)


# Refusals that are not "Bad Request" but still final: a revoked token, an unknown method, a
# getUpdates while a webhook is set.
_OTHER_REASONS = {401: "unauthorized", 404: "not_found", 409: "conflict"}

_ERROR_RESULTS: dict[type[TelegramError], str] = {
    RetryAfter: "retry_after",
    RateLimited: "rate_limited",
    TransientError: "transient",
    OutcomeUnknown: "outcome_unknown",
    Unreachable: "unreachable",
    BadRequest: "bad_request",
    ChatMigrated: "migrated",
}


# Outcomes that are a rate limit's doing: our own budget was full, or Telegram said 429.
_DELAYS = {"rate_limited": "budget_full", "retry_after": "telegram_429"}


def _done() -> http.Answer:
    """The answer Telegram gives when the call succeeds: what an "already done" call returns."""
    return http.Answer(200, b'{"ok":true,"result":true}')


def _observe(
    call: _Call, result: str, reason: str = "", error: TelegramError | None = None
) -> None:
    """Every call's outcome passes here once: counted per method for /metrics and, per bot and
    hour, for the dashboard (usage.py)."""
    _last_outcome.set(Outcome(call.method, call.chat_id, result, reason))
    metrics.api_call(call.method, result)
    if result != "rate_limited":  # postponed by our own budget: Telegram never saw it
        usage.count(call.bot_id, call.method, result)
    if result in _DELAYS:
        metrics.rate_limit_delay(_DELAYS[result])
    if result == "ok":
        return
    if error is None:
        logger.info(
            "telegram %s bot=%s chat=%s already done: %s",
            call.method, call.bot_id, call.chat_id, reason,
        )  # fmt: skip
    else:
        logger.info(
            "telegram %s bot=%s chat=%s %s: %s",
            call.method, call.bot_id, call.chat_id, result, error.description,
        )  # fmt: skip


def _mark_unreachable(call: _Call, reason: str, description: str) -> None:
    if not isinstance(call.chat_id, int):
        return  # an @username: no numeric id to store
    _run_hooks(_unreachable_hooks, Refusal(call.bot_id, call.chat_id, reason, description))


def _follow_migration(call: _Call, new_chat_id: int) -> None:
    assert isinstance(call.chat_id, int)
    _run_hooks(_migrated_hooks, Migration(call.bot_id, call.chat_id, new_chat_id))


def _rewind(files: dict[str, Any] | None) -> None:
    """Uploaded files were read by the first attempt; the repeat must send them whole."""
    for value in (files or {}).values():
        stream = value[1] if isinstance(value, tuple) else value
        if hasattr(stream, "seek"):
            stream.seek(0)


def _parse(url: str, params: dict[str, Any] | None) -> _Call:
    """Which bot, method and chat a call is about, read from apihelper.API_URL's pattern."""
    prefix, method = url.rsplit("/", 1)
    token = prefix[prefix.rindex("/bot") + 4 :]
    bot_id = token.split(":", 1)[0]
    return _Call(
        bot_id=int(bot_id) if bot_id.isdigit() else 0,
        method=method,
        chat_id=_chat_id((params or {}).get("chat_id")),
    )


def _chat_id(raw: Any) -> int | str | None:
    if raw is None or isinstance(raw, int):
        return raw
    text = str(raw)
    return int(text) if text.lstrip("-").isdigit() else text
