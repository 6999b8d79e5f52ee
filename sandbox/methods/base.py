"""What every Bot API method shares: the call as received, and resolving and checking its chat,
user and rights as Telegram does."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sandbox import errors
from sandbox.delivery import Delivery
from sandbox.errors import bad_request, forbidden
from sandbox.limits import Settings
from sandbox.world import Bot, Chat, World


@dataclass
class Call:
    bot: Bot
    method: str
    params: dict[str, Any]
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    description: str | None = None
    chat_id: int | None = None

    def get_int(self, name: str, default: int | None = None) -> int | None:
        value = self.params.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return int(value)
        try:
            return int(value)
        except (TypeError, ValueError):
            raise bad_request(f"Bad Request: invalid {name} specified") from None

    def get_bool(self, name: str) -> bool:
        value = self.params.get(name)
        if isinstance(value, bool):
            return value
        return str(value).lower() in ("true", "1") if value is not None else False

    def get_str(self, name: str) -> str | None:
        value = self.params.get(name)
        return None if value is None else str(value)


class Methods:
    """The world, delivery and settings every area's methods act on, and the checks they share."""

    def __init__(self, world: World, delivery: Delivery, settings: Settings) -> None:
        self.world = world
        self.delivery = delivery
        self.settings = settings

    # ---- resolution and access ------------------------------------------------------------

    def chat_of(self, call: Call, name: str = "chat_id", *, member_only: bool = True) -> Chat:
        """The chat a parameter names, as this bot may see it; raises Telegram's refusals."""
        raw = call.params.get(name)
        if raw is None or raw == "":
            raise bad_request(errors.CHAT_ID_EMPTY)
        world = self.world
        chat: Chat | None = None
        if isinstance(raw, str) and raw.startswith("@"):
            key = raw[1:].lower()
            chat = world.chats_by_name.get(key)
            if chat is None:
                user = world.users_by_name.get(key)
                if user is None:
                    raise bad_request(errors.CHAT_NOT_FOUND)
                raw = user.id
        if chat is None:
            try:
                chat_id = int(raw)
            except (TypeError, ValueError):
                raise bad_request(errors.CHAT_NOT_FOUND) from None
            chat = world.chats.get(chat_id)
            if chat is None:
                return self._private(call, chat_id, member_only)
        if name == "chat_id":
            call.chat_id = chat.id
        if chat.migrated_to is not None:
            raise bad_request(errors.GROUP_UPGRADED, migrate_to_chat_id=chat.migrated_to)
        me = world.member(chat, call.bot.id)
        if me.status == "kicked":
            raise forbidden(errors.KICKED_FROM.format(kind=chat.kind))
        if not me.in_chat:
            if chat.username and not member_only:
                return chat
            if chat.username or call.bot.id in chat.members:
                raise forbidden(errors.NOT_A_MEMBER.format(kind=chat.kind))
            raise bad_request(errors.CHAT_NOT_FOUND)
        return chat

    def _private(self, call: Call, user_id: int, member_only: bool) -> Chat:
        user = self.world.users.get(user_id)
        if user is None or user_id <= 0:
            raise bad_request(errors.CHAT_NOT_FOUND)
        bot = call.bot
        call.chat_id = user_id
        if user.is_bot:
            if user_id == bot.id:
                return self.world.private_chat(bot, user)
            raise forbidden(errors.CANT_SEND_TO_BOTS)
        if user_id in bot.blocked_by and member_only:
            raise forbidden(errors.BLOCKED_BY_USER)
        if user_id not in bot.started_by and user_id not in bot.blocked_by:
            if member_only and self.world.may_contact_requester(bot, user_id):
                return self.world.private_chat(bot, user)
            if member_only:
                raise forbidden(errors.CANT_INITIATE)
            raise bad_request(errors.CHAT_NOT_FOUND)
        return self.world.private_chat(bot, user)

    def user_of(self, call: Call) -> int:
        raw = call.params.get("user_id")
        try:
            user_id = int(raw)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise bad_request(errors.INVALID_USER_ID) from None
        if user_id not in self.world.users:
            raise bad_request(errors.USER_NOT_FOUND)
        return user_id

    def message_id_of(self, call: Call) -> int:
        message_id = call.get_int("message_id")
        if message_id is None:
            raise bad_request(errors.MESSAGE_ID_MISSING)
        return message_id

    def need_right(self, chat: Chat, bot: Bot, right: str, error: str) -> None:
        if chat.type == "group" and self.world.member(chat, bot.id).status == "administrator":
            return  # basic-group administrators hold every right
        if not self.world.has_right(chat, bot.id, right):
            raise bad_request(error)

    def can_send(self, chat: Chat, bot: Bot, permission: str, error: str) -> None:
        if chat.type == "private":
            return
        member = self.world.member(chat, bot.id)
        if chat.type == "channel":
            if not self.world.has_right(chat, bot.id, "can_post_messages"):
                raise bad_request(errors.NEED_ADMIN_IN_CHANNEL)
            return
        if member.status in ("administrator", "creator"):
            return
        source = member.permissions if member.status == "restricted" else chat.permissions
        if not source.get(permission, False):
            raise bad_request(error)

    def _apply(self, chat: Chat, user_id: int, status: str, actor_id: int, **kw: Any) -> None:
        was_in_chat = self.world.member(chat, user_id).in_chat
        self.world.set_member(chat, user_id, status, actor_id=actor_id, **kw)
        if was_in_chat and status in ("left", "kicked") and chat.is_group_like:
            left = self.world.user(user_id).api()
            message = self.world.new_message(
                chat, self.world.user(actor_id), left_chat_member=left, left_chat_participant=left
            )
            self.world.route_message(chat, message, actor_id)
