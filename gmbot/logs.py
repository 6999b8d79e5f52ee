"""Logging (SPEC O3): JSON lines in production, readable lines in development, each carrying the
ids of what it is about, never a token.

Every process logs through the standard library, and structlog's ProcessorFormatter renders every
record, ours and the libraries' alike: the level, the logger, a UTC timestamp, and the context
bound with structlog's contextvars. django-structlog binds `request_id` (and `user_id`) for each
Django request and `task_id` for each Celery job; a job about an update binds `bot_id`,
`update_id`, `user_id` and `group_id` or `channel_id` (`bind_update`). Each line is passed through
gmbot.redact, so a bot token that reaches a log line by accident leaves it as `<bot token>`.

LOG_FORMAT chooses: `json` (the default with DEBUG off) or `console` (with DEBUG on).
"""

from __future__ import annotations

import sys
from typing import Any

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

from gmbot import redact
from gmbot.env import ConfigError, env

FORMATS = ("json", "console")


def log_format(debug: bool) -> str:
    chosen = env("LOG_FORMAT") or ("console" if debug else "json")
    if chosen not in FORMATS:
        raise ConfigError(f"LOG_FORMAT must be json or console, not {chosen!r}.")
    return chosen


class _Redacted:
    """The renderer, then the rendered line with any bot token hidden."""

    def __init__(self, renderer: Processor) -> None:
        self.renderer = renderer

    def __call__(self, logger: WrappedLogger, name: str, event: EventDict) -> str:
        return redact.text(str(self.renderer(logger, name, event)))


def _level_in_capitals(logger: WrappedLogger, name: str, event: EventDict) -> EventDict:
    """Readable lines name the level as the plain format always did: ERROR, WARNING."""
    event["level"] = str(event.get("level", "")).upper()
    return event


def _shared() -> list[Processor]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]


def config(fmt: str, level: str) -> dict[str, Any]:
    """The `LOGGING` dict for Django (and for Celery and gunicorn, which are handed the same), and
    structlog configured to hand its events to it."""
    renderer: Processor
    if fmt == "json":
        renderer = structlog.processors.JSONRenderer()
        before: list[Processor] = [structlog.processors.format_exc_info]
    else:
        # The plain traceback, not the rich one structlog picks when `rich` is installed (the
        # test tools bring it): that one prints every frame's local variables, webhook secrets
        # and keys included, and takes a tenth of a second to a second of CPU per traceback.
        renderer = structlog.dev.ConsoleRenderer(
            colors=sys.stderr.isatty(), exception_formatter=structlog.dev.plain_traceback
        )
        before = [_level_in_capitals]
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *_shared(),
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "structlog": {
                "()": structlog.stdlib.ProcessorFormatter,
                "processors": [
                    structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    *before,
                    _Redacted(renderer),
                ],
                "foreign_pre_chain": _shared(),
            },
        },
        "handlers": {
            "console": {"class": "logging.StreamHandler", "formatter": "structlog"},
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # urllib3 logs full request URLs at DEBUG, and Bot API URLs carry the token.
            "urllib3": {"level": "WARNING"},
            # gunicorn's own lines (boot, worker exits) in the same format as everything else.
            # Its access log (WEB_ACCESS_LOG, off by default) keeps its own file and format.
            "gunicorn.error": {"handlers": ["console"], "level": level, "propagate": False},
        },
    }


UPDATE_PARTS = (
    "message", "edited_message", "channel_post", "edited_channel_post", "callback_query",
    "chat_member", "my_chat_member", "chat_join_request",
)  # fmt: skip


def bind_update(bot_id: int, update: dict[str, Any]) -> None:
    """Bind the ids an update is about for every line logged while it is handled: the bot (its
    primary key), the update, the user it is from, and its group or channel (a private chat is
    the user's own: no other id)."""
    ids: dict[str, Any] = {"bot_id": bot_id, "update_id": update.get("update_id")}
    for kind in UPDATE_PARTS:
        part = update.get(kind)
        if not isinstance(part, dict):
            continue
        sender = part.get("from")
        if isinstance(sender, dict) and "id" in sender:
            ids["user_id"] = sender["id"]
        chat = part.get("chat")
        if kind == "callback_query":
            message = part.get("message")
            chat = message.get("chat") if isinstance(message, dict) else None
        if isinstance(chat, dict) and chat.get("type") == "channel":
            ids["channel_id"] = chat.get("id")
        elif isinstance(chat, dict) and chat.get("type") in ("group", "supergroup"):
            ids["group_id"] = chat.get("id")
        break
    structlog.contextvars.bind_contextvars(**ids)
