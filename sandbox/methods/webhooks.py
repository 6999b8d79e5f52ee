"""Getting updates: the webhook and long polling."""

from __future__ import annotations

import re
from typing import Any

from sandbox import errors
from sandbox.errors import ApiError, bad_request
from sandbox.methods.base import Call, Methods
from sandbox.world import DEFAULT_ALLOWED, UPDATE_TYPES

_SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")


class WebhookMethods(Methods):
    # ---- updates --------------------------------------------------------------------------

    def _allowed(self, call: Call) -> None:
        allowed = call.params.get("allowed_updates")
        if isinstance(allowed, list):
            bot = call.bot
            chosen = frozenset(str(kind) for kind in allowed) & frozenset(UPDATE_TYPES)
            bot.allowed_updates_given = [str(kind) for kind in allowed]
            bot.allowed_updates = chosen or DEFAULT_ALLOWED

    def setwebhook(self, call: Call) -> Any:
        url = call.get_str("url") or ""
        if not url:
            return self.deletewebhook(call)
        allowed_schemes = ("https://", "http://") if self.settings.allow_http_webhooks else ()
        if not url.startswith(allowed_schemes or ("https://",)):
            raise bad_request(errors.BAD_WEBHOOK_HTTPS)
        secret = call.get_str("secret_token")
        if secret is not None and not _SECRET_TOKEN.fullmatch(secret):
            raise bad_request(errors.SECRET_TOKEN_INVALID)
        max_connections = call.get_int("max_connections", 40) or 40
        if not 1 <= max_connections <= 100:
            raise bad_request(errors.WEBHOOK_MAX_CONNECTIONS)
        bot = call.bot
        self._allowed(call)
        if call.get_bool("drop_pending_updates"):
            bot.pending.clear()
        same = bot.webhook is not None and (
            bot.webhook.url,
            bot.webhook.secret_token,
            bot.webhook.max_connections,
        ) == (url, secret, max_connections)
        self.delivery.set_webhook(bot, url, secret, max_connections)
        call.description = "Webhook is already set" if same else "Webhook was set"
        return True

    def deletewebhook(self, call: Call) -> Any:
        bot = call.bot
        call.description = "Webhook was deleted" if bot.webhook else "Webhook is already deleted"
        if call.get_bool("drop_pending_updates"):
            bot.pending.clear()
        self.delivery.delete_webhook(bot)
        return True

    def getwebhookinfo(self, call: Call) -> Any:
        bot = call.bot
        webhook = bot.webhook
        info: dict[str, Any] = {
            "url": webhook.url if webhook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(bot.pending),
        }
        if webhook is None:
            return info
        info["ip_address"] = webhook.ip_address
        info["max_connections"] = webhook.max_connections
        if webhook.last_error_date is not None:
            info["last_error_date"] = webhook.last_error_date
            info["last_error_message"] = webhook.last_error_message
        if bot.allowed_updates_given is not None:
            info["allowed_updates"] = bot.allowed_updates_given
        return info

    async def getupdates(self, call: Call) -> Any:
        bot = call.bot
        if bot.webhook is not None:
            raise ApiError(409, errors.CONFLICT_WEBHOOK)
        self._allowed(call)
        limit = min(max(call.get_int("limit", 100) or 100, 1), 100)
        timeout = max(call.get_int("timeout", 0) or 0, 0)
        updates = await self.delivery.get_updates(bot, call.get_int("offset"), limit, timeout)
        return [update.api() for update in updates]
