"""Chats and the bot itself: chat info, invite links, leaving, the bot's commands."""

from __future__ import annotations

import json
import re
import secrets
from typing import Any

from sandbox import errors
from sandbox.errors import bad_request
from sandbox.methods.base import Call, Methods
from sandbox.world import Bot, Chat

_COMMAND = re.compile(r"[a-z0-9_]{1,32}")


class ChatMethods(Methods):
    # ---- chats ----------------------------------------------------------------------------

    def getchat(self, call: Call) -> Any:
        chat = self.chat_of(call, member_only=False)
        return self.world.chat_full_info(chat, call.bot)

    def _invite_rights(self, call: Call) -> Chat:
        chat = self.chat_of(call)
        if chat.type == "private":
            raise bad_request(errors.NOT_ENOUGH_RIGHTS_INVITE)
        self.need_right(chat, call.bot, "can_invite_users", errors.NOT_ENOUGH_RIGHTS_INVITE)
        return chat

    def _new_link(self, chat: Chat, bot: Bot, primary: bool, **fields: Any) -> dict[str, Any]:
        url = "https://t.me/+" + secrets.token_urlsafe(12)[:16]
        link: dict[str, Any] = {
            "invite_link": url,
            "_creator_id": bot.id,
            "creates_join_request": bool(fields.pop("creates_join_request", False)),
            "is_primary": primary,
            "is_revoked": False,
        }
        link.update({k: v for k, v in fields.items() if v not in (None, "")})
        if link["creates_join_request"]:
            link["pending_join_request_count"] = len(chat.join_requests)
        chat.invite_links[url] = link
        return link

    def createchatinvitelink(self, call: Call) -> Any:
        chat = self._invite_rights(call)
        creates = call.get_bool("creates_join_request")
        member_limit = call.get_int("member_limit")
        if creates and member_limit:
            raise bad_request(errors.MEMBER_LIMIT_WITH_REQUESTS)
        link = self._new_link(
            chat,
            call.bot,
            False,
            creates_join_request=creates,
            name=call.get_str("name"),
            expire_date=call.get_int("expire_date"),
            member_limit=member_limit,
        )
        return self.world.invite_link_api(link)

    def exportchatinvitelink(self, call: Call) -> Any:
        chat = self._invite_rights(call)
        if chat.primary_link and chat.primary_link in chat.invite_links:
            chat.invite_links[chat.primary_link]["is_revoked"] = True
        link = self._new_link(chat, call.bot, True)
        chat.primary_link = link["invite_link"]
        return link["invite_link"]

    def leavechat(self, call: Call) -> Any:
        chat = self.chat_of(call)
        if chat.type == "private":
            raise bad_request(errors.PRIVATE_STATUS_UNCHANGEABLE)
        self._apply(chat, call.bot.id, "left", call.bot.id)
        return True

    # ---- the bot itself -------------------------------------------------------------------

    def getme(self, call: Call) -> Any:
        return call.bot.get_me()

    def _commands_key(self, call: Call) -> str:
        scope = call.params.get("scope") or {"type": "default"}
        return json.dumps([scope, call.get_str("language_code") or ""], sort_keys=True)

    def setmycommands(self, call: Call) -> Any:
        commands = call.params.get("commands")
        if not isinstance(commands, list):
            raise bad_request(errors.BOT_COMMAND_INVALID)
        for command in commands:
            if not isinstance(command, dict) or not _COMMAND.fullmatch(
                str(command.get("command", "")).lstrip("/")
            ):
                raise bad_request(errors.BOT_COMMAND_INVALID)
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise bad_request(errors.BOT_COMMAND_DESCRIPTION_INVALID)
        call.bot.commands[self._commands_key(call)] = [
            {"command": str(c["command"]).lstrip("/"), "description": str(c["description"])}
            for c in commands
        ]
        return True

    def getmycommands(self, call: Call) -> Any:
        return call.bot.commands.get(self._commands_key(call), [])

    def deletemycommands(self, call: Call) -> Any:
        call.bot.commands.pop(self._commands_key(call), None)
        return True
