"""A small synchronous client for the sandbox's control API (tests, demo, benchmarks).

sb = Sandbox("http://127.0.0.1:8081")
sb.reset()
sb.create_bot("123:abc", "guard_bot")
alice = sb.create_user("Alice")
group = sb.create_chat("supergroup", title="Fans", owner_id=alice["id"])
sb.add_bot("guard_bot", group["id"], status="administrator")
sb.message(alice["id"], group["id"], "/protect @news")
sb.calls(bot="guard_bot", method="sendMessage")
"""

from __future__ import annotations

from typing import Any

import requests


class SandboxError(RuntimeError):
    """The control API refused a request (bad world description, unknown ids...)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


class Sandbox:
    def __init__(self, base_url: str, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()
        # The sandbox is the machine's own emulator: no proxy or .netrc applies, and not reading
        # the environment for them on every request saves about a third of a call's CPU (the
        # benchmarks' player shares the cores with the stack it measures).
        self.session.trust_env = False

    @property
    def bot_api_url(self) -> str:
        """The base to give clients: TELEGRAM_API_URL, `TelegramAPIServer.from_base(...)`."""
        return self.base_url

    def api_url(self, token: str, method: str) -> str:
        return f"{self.base_url}/bot{token}/{method}"

    # ---- plumbing -------------------------------------------------------------------------

    def _request(self, verb: str, path: str, **kwargs: Any) -> Any:
        response = self.session.request(
            verb, f"{self.base_url}/_sandbox/{path}", timeout=self.timeout, **kwargs
        )
        body = response.json()
        if response.status_code >= 400:
            raise SandboxError(response.status_code, body.get("error", response.text))
        return body

    def _post(self, path: str, **body: Any) -> Any:
        return self._request("POST", path, json={k: v for k, v in body.items() if v is not None})

    def _get(self, path: str, **params: Any) -> Any:
        return self._request("GET", path, params={k: v for k, v in params.items() if v is not None})

    # ---- world ----------------------------------------------------------------------------

    def health(self) -> bool:
        return bool(self._get("health").get("ok"))

    def reset(self) -> None:
        self._post("reset")

    def create_bot(self, token: str, username: str, **kw: Any) -> dict[str, Any]:
        """kw: first_name, can_read_all_group_messages (privacy mode off), can_join_groups."""
        return self._post("bots", token=token, username=username, **kw)

    def bot(self, bot: str) -> dict[str, Any]:
        return self._get(f"bots/{bot}")

    def set_star_balance(self, bot: str, stars: float) -> dict[str, Any]:
        """The bot's Telegram Stars, which paid broadcasting spends (0.1 Star a message)."""
        return self._post(f"bots/{bot}", star_balance=stars)

    def clock(self) -> dict[str, Any]:
        """{"now": Telegram's time as the sandbox reports it, "offset": seconds moved}."""
        return self._get("clock")

    def advance_clock(self, seconds: float) -> dict[str, Any]:
        """Move the sandbox's Telegram clock forward (message dates, the 48-hour delete rule)."""
        return self._post("clock", advance=seconds)

    def create_user(
        self, first_name: str, id: int | None = None, username: str | None = None, **kw: Any
    ) -> dict[str, Any]:
        """kw: last_name, language_code, is_premium."""
        return self._post("users", first_name=first_name, id=id, username=username, **kw)

    def create_chat(
        self,
        type: str,
        title: str | None = None,
        username: str | None = None,
        join_by_request: bool = False,
        **kw: Any,
    ) -> dict[str, Any]:
        """kw: id, owner_id (becomes creator), description, linked_chat_id, permissions."""
        return self._post(
            "chats",
            type=type,
            title=title,
            username=username,
            join_by_request=join_by_request,
            **kw,
        )

    def chat(self, chat_id: int) -> dict[str, Any]:
        return self._get(f"chats/{chat_id}")

    def update_chat(self, chat_id: int, **fields: Any) -> dict[str, Any]:
        """fields: permissions (merged), join_by_request, description, linked_chat_id, title."""
        return self._post(f"chats/{chat_id}", **fields)

    def set_member(
        self, chat_id: int, user_id: int | str, status: str, **rights_or_permissions: Any
    ) -> dict[str, Any]:
        """Set a status directly: creator, administrator (can_* rights), member, restricted
        (can_* permissions, until_date), left, kicked. `user_id` may be a bot's username.
        Extra keys: by (actor user id), custom_title, is_anonymous, is_member.
        Returns {"member": ChatMember, "update_ids": [...], "updates": [...]}."""
        target: dict[str, Any] = {"user_id": user_id}
        if isinstance(user_id, str) and not user_id.lstrip("-").isdigit():
            target = {"bot": user_id}
        return self._post(
            f"chats/{chat_id}/members", status=status, **target, **rights_or_permissions
        )

    def add_bot(
        self, bot: str, chat_id: int, status: str = "member", **rights: Any
    ) -> dict[str, Any]:
        """Add (or promote/demote) a bot the way a user would: my_chat_member for the bot and a
        new_chat_members service message in groups. rights: can_* , by (actor user id)."""
        return self._post("act/add_bot", bot=bot, chat_id=chat_id, status=status, **rights)

    def member(self, chat_id: int, user_id: int) -> dict[str, Any]:
        return self._get(f"chats/{chat_id}/members/{user_id}")

    def members(self, chat_id: int) -> list[dict[str, Any]]:
        return self._get(f"chats/{chat_id}/members")["members"]

    def messages(
        self, chat_id: int, bot: str | None = None, include_deleted: bool = False
    ) -> list[dict[str, Any]]:
        return self._get(
            f"chats/{chat_id}/messages",
            bot=bot,
            include_deleted="1" if include_deleted else None,
        )["messages"]

    def join_requests(self, chat_id: int) -> list[dict[str, Any]]:
        return self._get(f"chats/{chat_id}/join_requests")["join_requests"]

    # ---- actions --------------------------------------------------------------------------

    def message(
        self, user_id: int | None, chat_id: int | None, text: str | None = None, **kw: Any
    ) -> dict[str, Any]:
        """A user writes. chat_id may be a bot's id, or pass bot=<name> for a private chat.
        kw: reply_to, sender_chat_id, is_automatic_forward, photo (bool), caption, entities.
        Returns {"update_ids", "updates", "message_id", "chat_id", "message"}."""
        return self._post("act/message", user_id=user_id, chat_id=chat_id, text=text, **kw)

    def join(self, user_id: int, chat_id: int, invite_link: str | None = None) -> dict[str, Any]:
        return self._post("act/join", user_id=user_id, chat_id=chat_id, invite_link=invite_link)

    def leave(self, user_id: int, chat_id: int) -> dict[str, Any]:
        return self._post("act/leave", user_id=user_id, chat_id=chat_id)

    def press(
        self,
        user_id: int,
        chat_id: int,
        message_id: int,
        data: str | None = None,
        bot: str | None = None,
    ) -> dict[str, Any]:
        """Press an inline button; data defaults to the first callback button's."""
        return self._post(
            "act/press",
            user_id=user_id,
            chat_id=chat_id,
            message_id=message_id,
            data=data,
            bot=bot,
        )

    def start(self, user_id: int, bot: str, payload: str | None = None) -> dict[str, Any]:
        return self._post("act/start", user_id=user_id, bot=bot, payload=payload)

    def block(self, user_id: int, bot: str) -> dict[str, Any]:
        return self._post("act/block", user_id=user_id, bot=bot)

    def unblock(self, user_id: int, bot: str) -> dict[str, Any]:
        return self._post("act/unblock", user_id=user_id, bot=bot)

    def migrate(self, chat_id: int, by: int | None = None) -> dict[str, Any]:
        """Upgrade a group; returns {"update_ids", "chat_id": new id, "migrate_to_chat_id"}."""
        return self._post("act/migrate", chat_id=chat_id, by=by)

    # ---- reading back ---------------------------------------------------------------------

    def calls(
        self,
        bot: str | None = None,
        method: str | None = None,
        chat_id: int | None = None,
        since: int | None = None,
    ) -> list[dict[str, Any]]:
        return self._get("calls", bot=bot, method=method, chat_id=chat_id, since=since)["calls"]

    def updates(self, bot: str | None = None, since: int | None = None) -> list[dict[str, Any]]:
        return self._get("updates", bot=bot, since=since)["updates"]

    def webhook(self, bot: str) -> dict[str, Any]:
        return self._get(f"webhook/{bot}")

    # ---- limits and faults ----------------------------------------------------------------

    def limits(self) -> dict[str, Any]:
        return self._get("limits")

    def set_limits(self, **kw: Any) -> dict[str, Any]:
        """kw: enabled, time_scale, global_per_second, global_burst, group_per_minute,
        group_burst, private_per_second, private_burst, paid_per_second, paid_burst,
        webhook_timeout,
        webhook_backoff_initial, webhook_backoff_cap, callback_query_ttl."""
        return self._post("limits", **kw)

    def fault(
        self,
        method: str,
        error_code: int = 0,
        description: str = "",
        times: int | None = None,
        probability: float | None = None,
        delay_ms: float | None = None,
        retry_after: int | None = None,
        bot: str | None = None,
        chat_id: int | None = None,
    ) -> dict[str, Any]:
        """Make `method` ("*" for any) answer an error (error_code 0: only delay it), for every
        chat or only calls about `chat_id`."""
        return self._post(
            "faults",
            method=method,
            error_code=error_code,
            description=description,
            times=times,
            probability=probability,
            delay_ms=delay_ms,
            retry_after=retry_after,
            bot=bot,
            chat_id=chat_id,
        )

    def clear_faults(self) -> None:
        self._request("DELETE", "faults")
