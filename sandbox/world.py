"""The world the sandbox simulates: users, bots, chats, memberships, messages, and the updates
each change produces for each bot.

Objects are kept in Telegram's own JSON shape where that is cheapest (messages are stored as the
dict a bot would receive). Everything here is synchronous and runs on the server's event loop, so
no locking is needed.
"""

from __future__ import annotations

import base64
import copy
import itertools
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sandbox import text as textmod

UPDATE_TYPES = (
    "message",
    "edited_message",
    "channel_post",
    "edited_channel_post",
    "business_connection",
    "business_message",
    "edited_business_message",
    "deleted_business_messages",
    "message_reaction",
    "message_reaction_count",
    "inline_query",
    "chosen_inline_result",
    "callback_query",
    "shipping_query",
    "pre_checkout_query",
    "purchased_paid_media",
    "poll",
    "poll_answer",
    "my_chat_member",
    "chat_member",
    "chat_join_request",
    "chat_boost",
    "removed_chat_boost",
)
# Telegram's default when allowed_updates was never given: everything but these three.
DEFAULT_ALLOWED = frozenset(UPDATE_TYPES) - {
    "chat_member",
    "message_reaction",
    "message_reaction_count",
}

PERMISSION_FIELDS = (
    "can_send_messages",
    "can_send_audios",
    "can_send_documents",
    "can_send_photos",
    "can_send_videos",
    "can_send_video_notes",
    "can_send_voice_notes",
    "can_send_polls",
    "can_send_other_messages",
    "can_add_web_page_previews",
    "can_react_to_messages",
    "can_edit_tag",
    "can_change_info",
    "can_invite_users",
    "can_pin_messages",
    "can_manage_topics",
)
LATE_PERMISSIONS = ("can_react_to_messages", "can_edit_tag")
MEDIA_PERMISSIONS = (
    "can_send_audios",
    "can_send_documents",
    "can_send_photos",
    "can_send_videos",
    "can_send_video_notes",
    "can_send_voice_notes",
)
ADMIN_RIGHTS = (
    "can_manage_chat",
    "can_delete_messages",
    "can_manage_video_chats",
    "can_restrict_members",
    "can_promote_members",
    "can_change_info",
    "can_invite_users",
    "can_post_stories",
    "can_edit_stories",
    "can_delete_stories",
    # Not in api.json 10.1, but aiogram 3.31 requires it (a newer Bot API field).
    "can_send_welcome_messages",
)
CHANNEL_ADMIN_RIGHTS = ("can_post_messages", "can_edit_messages", "can_manage_direct_messages")
GROUP_ADMIN_RIGHTS = ("can_pin_messages", "can_manage_topics", "can_manage_tags")
# What a bot gets when it is made administrator without rights being listed.
DEFAULT_ADMIN_RIGHTS = {
    "can_manage_chat": True,
    "can_delete_messages": True,
    "can_manage_video_chats": True,
    "can_restrict_members": True,
    "can_promote_members": False,
    "can_change_info": True,
    "can_invite_users": True,
    "can_post_stories": True,
    "can_edit_stories": True,
    "can_delete_stories": True,
    "can_send_welcome_messages": True,
    "can_post_messages": True,
    "can_edit_messages": True,
    "can_manage_direct_messages": True,
    "can_pin_messages": True,
    "can_manage_topics": False,
    "can_manage_tags": True,
}
ACTIVE_STATUSES = frozenset({"creator", "administrator", "member"})
SEND_METHODS = frozenset({"sendmessage", "sendphoto", "copymessage", "forwardmessage"})
GROUP_ANONYMOUS_BOT_ID = 1087968824
CHANNEL_BOT_ID = 136817688


# Telegram's clock as the sandbox shows it: the host's, moved forward by the control API
# (`POST /_sandbox/clock`) so a test can age messages (deleteMessage's 48-hour rule) without
# waiting. Only dates Telegram reports move; limits and webhook timing keep the host's clock.
_clock_offset = 0.0
# How long a join request's user_chat_id lets the bot write to the requester (api.json).
JOIN_REQUEST_CONTACT_SECONDS = 300


def now() -> int:
    return int(time.time() + _clock_offset)


def advance_clock(seconds: float) -> float:
    """Move the sandbox's Telegram clock forward; returns the total offset."""
    global _clock_offset
    if seconds < 0:
        raise ValueError("the clock only moves forward")
    _clock_offset += seconds
    return _clock_offset


def reset_clock() -> None:
    global _clock_offset
    _clock_offset = 0.0


def clock_offset() -> float:
    return _clock_offset


@dataclass
class User:
    id: int
    first_name: str
    is_bot: bool = False
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    is_premium: bool = False
    _api: dict[str, Any] | None = field(default=None, repr=False)

    def api(self) -> dict[str, Any]:
        if self._api is None:
            obj: dict[str, Any] = {
                "id": self.id,
                "is_bot": self.is_bot,
                "first_name": self.first_name,
            }
            if self.last_name:
                obj["last_name"] = self.last_name
            if self.username:
                obj["username"] = self.username
            if self.language_code:
                obj["language_code"] = self.language_code
            if self.is_premium:
                obj["is_premium"] = True
            self._api = obj
        return self._api


@dataclass
class Webhook:
    url: str
    secret_token: str | None = None
    max_connections: int = 40
    ip_address: str = "127.0.0.1"
    last_error_date: int | None = None
    last_error_message: str | None = None


@dataclass
class Update:
    update_id: int
    bot_id: int
    kind: str
    payload: dict[str, Any]
    chat_key: int
    next_attempt: float = 0.0
    attempts: int = 0
    in_flight: bool = False

    def api(self) -> dict[str, Any]:
        return {"update_id": self.update_id, self.kind: self.payload}


@dataclass
class Bot:
    user: User
    token: str
    can_join_groups: bool = True
    can_read_all_group_messages: bool = False
    supports_inline_queries: bool = False
    started_by: set[int] = field(default_factory=set)
    blocked_by: set[int] = field(default_factory=set)
    commands: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    allowed_updates: frozenset[str] = DEFAULT_ALLOWED
    allowed_updates_given: list[str] | None = None
    webhook: Webhook | None = None
    pending: dict[int, Update] = field(default_factory=dict)
    # The bot's Telegram Stars, in nanostars (10^-9 Star): paid broadcasting costs 0.1 Star a
    # message. A new bot has none, as on Telegram.
    star_nanos: int = 0

    @property
    def id(self) -> int:
        return self.user.id

    def get_me(self) -> dict[str, Any]:
        return {
            **self.user.api(),
            "can_join_groups": self.can_join_groups,
            "can_read_all_group_messages": self.can_read_all_group_messages,
            "supports_inline_queries": self.supports_inline_queries,
            "can_connect_to_business": False,
            "has_main_web_app": False,
            "has_topics_enabled": False,
            "allows_users_to_create_topics": False,
            "can_manage_bots": False,
            "supports_join_request_queries": False,
        }


@dataclass
class Member:
    user_id: int
    status: str = "left"
    until_date: int = 0
    rights: dict[str, bool] = field(default_factory=dict)
    permissions: dict[str, bool] = field(default_factory=dict)
    is_member: bool = False
    is_anonymous: bool = False
    custom_title: str | None = None
    can_be_edited: bool = False

    @property
    def in_chat(self) -> bool:
        return self.status in ACTIVE_STATUSES or (self.status == "restricted" and self.is_member)


@dataclass
class Chat:
    id: int
    type: str
    title: str | None = None
    username: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    join_by_request: bool = False
    description: str | None = None
    linked_chat_id: int | None = None
    is_forum: bool = False
    permissions: dict[str, bool] = field(default_factory=dict)
    members: dict[int, Member] = field(default_factory=dict)
    messages: dict[int, dict[str, Any]] = field(default_factory=dict)
    deleted: dict[int, dict[str, Any]] = field(default_factory=dict)
    next_message_id: int = 1
    join_requests: dict[int, dict[str, Any]] = field(default_factory=dict)
    invite_links: dict[str, dict[str, Any]] = field(default_factory=dict)
    primary_link: str | None = None
    migrated_to: int | None = None
    migrated_from: int | None = None
    bot_ids: set[int] = field(default_factory=set)
    # Private chats only: the bot whose conversation with the user this is.
    owner_bot_id: int | None = None
    _api: dict[str, Any] | None = field(default=None, repr=False)

    @property
    def kind(self) -> str:
        """The word Telegram puts in `bot was kicked from the <kind> chat`."""
        return self.type

    @property
    def is_group_like(self) -> bool:
        return self.type in ("group", "supergroup")

    def api(self) -> dict[str, Any]:
        if self._api is None:
            obj: dict[str, Any] = {"id": self.id, "type": self.type}
            if self.type == "private":
                obj["first_name"] = self.first_name or ""
                if self.last_name:
                    obj["last_name"] = self.last_name
            else:
                obj["title"] = self.title or ""
            if self.username:
                obj["username"] = self.username
            if self.is_forum:
                obj["is_forum"] = True
            self._api = obj
        return self._api

    def new_message_id(self) -> int:
        message_id = self.next_message_id
        self.next_message_id += 1
        return message_id


@dataclass
class CallbackQuery:
    id: str
    bot_id: int
    user_id: int
    created: float
    answered: bool = False
    answer: dict[str, Any] | None = None


def full_permissions() -> dict[str, bool]:
    perms = dict.fromkeys(PERMISSION_FIELDS, True)
    perms["can_change_info"] = False
    perms["can_pin_messages"] = False
    perms["can_manage_topics"] = False
    perms["can_edit_tag"] = False
    return perms


# Ids are shared by every world of the process and start from the clock (tenths of a second
# since 2025), so neither a reset nor a restart hands out an update, user or chat id that was
# used before: Telegram never reuses one, and the product rightly remembers them (a repeated
# update id is dropped as a redelivery; a user's checks and claims are cached).
_EPOCH_TENTHS = int((time.time() - 1_735_689_600) * 10)
_UPDATE_IDS = itertools.count(100_000_001 + _EPOCH_TENTHS)
_USER_IDS = itertools.count(7_000_000_001 + _EPOCH_TENTHS)
_GROUP_IDS = itertools.count(4_000_000_001 + _EPOCH_TENTHS)
_CHANNEL_IDS = itertools.count(1_002_000_000_001 + _EPOCH_TENTHS)


class World:
    """All state of one sandbox. `on_update` is called for every update queued for a bot."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.users: dict[int, User] = {}
        self.users_by_name: dict[str, User] = {}
        self.bots: dict[int, Bot] = {}
        self.bots_by_token: dict[str, Bot] = {}
        self.bots_by_name: dict[str, Bot] = {}
        self.chats: dict[int, Chat] = {}
        self.chats_by_name: dict[str, Chat] = {}
        self.private: dict[tuple[int, int], Chat] = {}
        self.callbacks: dict[str, CallbackQuery] = {}
        self.files: dict[str, list[dict[str, Any]]] = {}
        # (chat id, owning bot of a private chat or None, message id) -> the bot that sent it
        self.message_authors: dict[tuple[int, int | None, int], int] = {}
        self.updates: list[Update] = []
        self.on_update: Callable[[Bot, Update], None] = lambda bot, update: None
        self._update_ids = _UPDATE_IDS
        self._user_ids = _USER_IDS
        self._group_ids = _GROUP_IDS
        self._channel_ids = _CHANNEL_IDS
        self._callback_ids = itertools.count(4_278_655_576_057_498_001)

    # ---- creation -------------------------------------------------------------------------

    def _free_user_id(self) -> int:
        """The next automatic user id that no user or bot holds yet (a bot's id comes from its
        token, so it may already sit on the automatic sequence)."""
        user_id = next(self._user_ids)
        while user_id in self.users:
            user_id = next(self._user_ids)
        return user_id

    def add_user(
        self,
        first_name: str,
        id: int | None = None,
        username: str | None = None,
        last_name: str | None = None,
        language_code: str | None = "en",
        is_premium: bool = False,
        is_bot: bool = False,
    ) -> User:
        user_id = id if id is not None else self._free_user_id()
        if user_id in self.users:
            raise ValueError(f"user {user_id} exists")
        if username and username.lower() in self.users_by_name:
            raise ValueError(f"username @{username} is taken")
        user = User(
            id=user_id,
            first_name=first_name,
            is_bot=is_bot,
            last_name=last_name,
            username=username,
            language_code=None if is_bot else language_code,
            is_premium=is_premium,
        )
        self.users[user_id] = user
        if username:
            self.users_by_name[username.lower()] = user
        return user

    def add_bot(
        self,
        token: str,
        username: str,
        first_name: str | None = None,
        can_read_all_group_messages: bool = False,
        can_join_groups: bool = True,
    ) -> Bot:
        prefix = token.split(":", 1)[0]
        if not prefix.isdigit() or ":" not in token:
            raise ValueError("a bot token looks like 123456:ABC-def")
        if token in self.bots_by_token:
            raise ValueError("token exists")
        username = username.lstrip("@")
        user = self.add_user(first_name or username, id=int(prefix), username=username, is_bot=True)
        bot = Bot(
            user=user,
            token=token,
            can_join_groups=can_join_groups,
            can_read_all_group_messages=can_read_all_group_messages,
        )
        self.bots[user.id] = bot
        self.bots_by_token[token] = bot
        self.bots_by_name[username.lower()] = bot
        return bot

    def add_chat(
        self,
        type: str,
        title: str | None = None,
        username: str | None = None,
        join_by_request: bool = False,
        id: int | None = None,
        owner_id: int | None = None,
        description: str | None = None,
        linked_chat_id: int | None = None,
        permissions: dict[str, bool] | None = None,
        is_forum: bool = False,
    ) -> Chat:
        if type not in ("group", "supergroup", "channel"):
            raise ValueError("type must be group, supergroup or channel")
        if id is None:
            id = -next(self._group_ids) if type == "group" else -next(self._channel_ids)
        if id in self.chats:
            raise ValueError(f"chat {id} exists")
        if username and type == "group":
            raise ValueError("basic groups have no username")
        chat = Chat(
            id=id,
            type=type,
            title=title or f"{type.title()} {abs(id)}",
            username=username.lstrip("@") if username else None,
            join_by_request=join_by_request,
            description=description,
            linked_chat_id=linked_chat_id,
            is_forum=is_forum,
            permissions={**full_permissions(), **(permissions or {})} if type != "channel" else {},
        )
        self.chats[id] = chat
        if chat.username:
            self.chats_by_name[chat.username.lower()] = chat
        if owner_id is not None:
            self.user(owner_id)
            chat.members[owner_id] = Member(owner_id, "creator", is_member=True)
        if linked_chat_id is not None and linked_chat_id in self.chats:
            self.chats[linked_chat_id].linked_chat_id = id
        return chat

    def private_chat(self, bot: Bot, user: User) -> Chat:
        key = (bot.id, user.id)
        chat = self.private.get(key)
        if chat is None:
            chat = Chat(
                id=user.id,
                type="private",
                first_name=user.first_name,
                last_name=user.last_name,
                username=user.username,
                owner_bot_id=bot.id,
            )
            self.private[key] = chat
        return chat

    # ---- look-ups -------------------------------------------------------------------------

    def user(self, user_id: int) -> User:
        user = self.users.get(user_id)
        if user is None:
            raise LookupError(f"user {user_id} not found")
        return user

    def bot_named(self, name: str | int) -> Bot:
        """A bot by username (with or without @), token, or id."""
        key = str(name)
        bot = self.bots_by_token.get(key) or self.bots_by_name.get(key.lstrip("@").lower())
        if bot is None and key.lstrip("-").isdigit():
            bot = self.bots.get(int(key))
        if bot is None:
            raise LookupError(f"bot {name} not found")
        return bot

    def chat(self, chat_id: int) -> Chat:
        chat = self.chats.get(chat_id)
        if chat is None:
            raise LookupError(f"chat {chat_id} not found")
        return chat

    def member(self, chat: Chat, user_id: int) -> Member:
        """The member record, with an expired restriction or ban lifted as Telegram does."""
        member = chat.members.get(user_id)
        if member is None:
            return Member(user_id)
        if member.until_date and member.until_date <= now():
            if member.status == "restricted":
                member.status = "member" if member.is_member else "left"
                member.permissions = {}
                member.until_date = 0
            elif member.status == "kicked":
                member.status = "left"
                member.until_date = 0
        return member

    # ---- objects in API shape -------------------------------------------------------------

    def member_api(self, chat: Chat, member: Member) -> dict[str, Any]:
        user = self.user(member.user_id).api()
        status = member.status
        if status == "creator":
            obj: dict[str, Any] = {
                "user": user,
                "status": "creator",
                "is_anonymous": member.is_anonymous,
            }
            if member.custom_title:
                obj["custom_title"] = member.custom_title
            return obj
        if status == "administrator":
            obj = {
                "user": user,
                "status": "administrator",
                "can_be_edited": member.can_be_edited,
                "is_anonymous": member.is_anonymous,
            }
            for name in ADMIN_RIGHTS:
                obj[name] = bool(member.rights.get(name, False))
            extra = CHANNEL_ADMIN_RIGHTS if chat.type == "channel" else GROUP_ADMIN_RIGHTS
            for name in extra:
                obj[name] = bool(member.rights.get(name, False))
            if member.custom_title:
                obj["custom_title"] = member.custom_title
            return obj
        if status == "restricted":
            obj = {"user": user, "status": "restricted", "is_member": member.is_member}
            for name in PERMISSION_FIELDS:
                obj[name] = bool(member.permissions.get(name, False))
            obj["until_date"] = member.until_date
            return obj
        if status == "kicked":
            return {"user": user, "status": "kicked", "until_date": member.until_date}
        return {"user": user, "status": status}

    def chat_full_info(self, chat: Chat, bot: Bot) -> dict[str, Any]:
        info: dict[str, Any] = {
            **chat.api(),
            "accent_color_id": abs(chat.id) % 7,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }
        if chat.type == "private":
            return info
        if chat.description:
            info["description"] = chat.description
        if chat.is_group_like:
            info["permissions"] = {
                name: chat.permissions.get(name, False) for name in PERMISSION_FIELDS
            }
        if chat.join_by_request:
            info["join_by_request"] = True
        if chat.linked_chat_id is not None:
            info["linked_chat_id"] = chat.linked_chat_id
        if chat.type == "supergroup":
            info["has_visible_history"] = True
        me = self.member(chat, bot.id)
        if me.status in ("administrator", "creator") and chat.primary_link:
            info["invite_link"] = chat.primary_link
        return info

    def invite_link_api(self, link: dict[str, Any]) -> dict[str, Any]:
        obj = {k: v for k, v in link.items() if not k.startswith("_")}
        obj["creator"] = self.user(link["_creator_id"]).api()
        return obj

    # ---- updates --------------------------------------------------------------------------

    def emit(self, bot: Bot, kind: str, payload: dict[str, Any], chat_key: int) -> Update | None:
        if kind not in bot.allowed_updates:
            return None
        update = Update(
            update_id=next(self._update_ids),
            bot_id=bot.id,
            kind=kind,
            payload=copy.deepcopy(payload),
            chat_key=chat_key,
        )
        bot.pending[update.update_id] = update
        self.updates.append(update)
        self.on_update(bot, update)
        return update

    def may_contact_requester(self, bot: Bot, user_id: int) -> bool:
        """A bot may message a user who never started it through a join request's
        `user_chat_id`: for 5 minutes after the request, until it is processed (api.json,
        ChatJoinRequest.user_chat_id), and only a bot that can see the request (an admin with
        can_invite_users in the chat)."""
        for chat in self.chats.values():
            request = chat.join_requests.get(user_id)
            if (
                request is not None
                and now() - int(request["date"]) <= JOIN_REQUEST_CONTACT_SECONDS
                and self.member(chat, bot.id).in_chat
                and self.has_right(chat, bot.id, "can_invite_users")
            ):
                return True
        return False

    def bots_in(self, chat: Chat) -> Iterable[Bot]:
        for bot_id in list(chat.bot_ids):
            if self.member(chat, bot_id).in_chat:
                yield self.bots[bot_id]

    def is_admin(self, chat: Chat, user_id: int) -> bool:
        return self.member(chat, user_id).status in ("administrator", "creator")

    def has_right(self, chat: Chat, user_id: int, right: str) -> bool:
        member = self.member(chat, user_id)
        if member.status == "creator":
            return True
        return member.status == "administrator" and bool(member.rights.get(right))

    def route_message(
        self, chat: Chat, message: dict[str, Any], sender_id: int | None
    ) -> list[Update]:
        """Queue `message` for every bot that would see it (privacy mode applies)."""
        produced: list[Update] = []
        if chat.type == "private":
            bot = self.bots.get(chat.owner_bot_id or 0)
            if bot is not None and sender_id != bot.id:
                update = self.emit(bot, "message", message, chat.id)
                if update:
                    produced.append(update)
            return produced
        service = _is_service(message)
        if sender_id in self.bots and not service:
            return produced  # bots never see other bots' messages
        kind = "channel_post" if chat.type == "channel" else "message"
        command = textmod.command_of(message.get("text"))
        for bot in self.bots_in(chat):
            if bot.id == sender_id:
                continue
            if chat.type == "channel":
                if not self.is_admin(chat, bot.id):
                    continue
            elif not (
                bot.can_read_all_group_messages
                or self.is_admin(chat, bot.id)
                or service
                or _addressed_to(bot, command, message)
            ):
                continue
            update = self.emit(bot, kind, message, chat.id)
            if update:
                produced.append(update)
        return produced

    def member_changed(
        self,
        chat: Chat,
        user_id: int,
        old: dict[str, Any],
        new: dict[str, Any],
        actor_id: int,
        invite_link: dict[str, Any] | None = None,
        via_join_request: bool = False,
    ) -> list[Update]:
        """my_chat_member for a bot whose own status changed; chat_member for admin bots."""
        if old == new:
            return []
        payload: dict[str, Any] = {
            "chat": chat.api(),
            "from": self.user(actor_id).api(),
            "date": now(),
            "old_chat_member": old,
            "new_chat_member": new,
        }
        if invite_link is not None:
            payload["invite_link"] = invite_link
        if via_join_request:
            payload["via_join_request"] = True
        produced: list[Update] = []
        target = self.bots.get(user_id)
        if target is not None:
            update = self.emit(target, "my_chat_member", payload, chat.id)
            if update:
                produced.append(update)
        for bot in self.bots_in(chat):
            if bot.id != user_id and self.is_admin(chat, bot.id):
                update = self.emit(bot, "chat_member", payload, chat.id)
                if update:
                    produced.append(update)
        return produced

    def set_member(
        self,
        chat: Chat,
        user_id: int,
        status: str,
        actor_id: int | None = None,
        rights: dict[str, bool] | None = None,
        permissions: dict[str, bool] | None = None,
        until_date: int = 0,
        is_member: bool | None = None,
        custom_title: str | None = None,
        is_anonymous: bool = False,
        invite_link: dict[str, Any] | None = None,
        via_join_request: bool = False,
    ) -> list[Update]:
        """Give `user_id` a new status in `chat` and emit the member updates it causes."""
        if status not in ("creator", "administrator", "member", "restricted", "left", "kicked"):
            raise ValueError(f"unknown status {status}")
        user = self.user(user_id)
        previous = self.member(chat, user_id)
        old_api = self.member_api(chat, previous)
        member = Member(user_id, status)
        if status == "administrator":
            member.rights = {**DEFAULT_ADMIN_RIGHTS, **(rights or {})}
            member.can_be_edited = actor_id is not None and actor_id in self.bots
            member.custom_title = custom_title
            member.is_anonymous = is_anonymous
        elif status == "creator":
            member.is_anonymous = is_anonymous
            member.custom_title = custom_title
        elif status == "restricted":
            member.permissions = {
                name: bool((permissions or {}).get(name, False)) for name in PERMISSION_FIELDS
            }
            member.until_date = until_date
            member.is_member = previous.in_chat if is_member is None else is_member
        elif status == "kicked":
            member.until_date = until_date
        member.is_member = member.is_member or status in ACTIVE_STATUSES
        chat.members[user_id] = member
        if user.is_bot and user_id in self.bots:
            chat.bot_ids.add(user_id)
        new_api = self.member_api(chat, member)
        actor = actor_id if actor_id is not None else self._default_actor(chat, user_id)
        return self.member_changed(
            chat, user_id, old_api, new_api, actor, invite_link, via_join_request
        )

    def _default_actor(self, chat: Chat, user_id: int) -> int:
        for member in chat.members.values():
            if member.status == "creator":
                return member.user_id
        return user_id

    # ---- messages -------------------------------------------------------------------------

    def new_message(
        self,
        chat: Chat,
        sender: User | None,
        sender_chat: Chat | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        message: dict[str, Any] = {"message_id": chat.new_message_id()}
        if sender is not None:
            message["from"] = sender.api()
        if sender_chat is not None:
            message["sender_chat"] = sender_chat.api()
        message["chat"] = chat.api()
        message["date"] = now()
        for key, value in fields.items():
            if value is not None:
                message[key] = value
        chat.messages[message["message_id"]] = message
        return message

    def reply_copy(self, message: dict[str, Any]) -> dict[str, Any]:
        """The replied-to message as embedded in a reply: no nested reply_to_message."""
        return {k: v for k, v in message.items() if k != "reply_to_message"}

    def photo_sizes(self, data: bytes | None, file_id: str | None) -> list[dict[str, Any]]:
        if file_id is not None:
            return self.files[file_id]
        size = len(data or b"")
        sizes: list[dict[str, Any]] = []
        for width, share in ((90, 0.02), (320, 0.15), (800, 1.0)):
            unique = base64.urlsafe_b64encode(secrets.token_bytes(12)).decode().rstrip("=")
            sizes.append(
                {
                    "file_id": "AgACAgIAAxkBAAI" + unique + str(width),
                    "file_unique_id": "AQAD" + unique[:12],
                    "file_size": max(1, int(size * share)),
                    "width": width,
                    "height": width,
                }
            )
        for photo in sizes:
            self.files[photo["file_id"]] = sizes
        return sizes

    def new_callback_id(self) -> str:
        return str(next(self._callback_ids))

    def chat_instance(self, bot: Bot, chat: Chat) -> str:
        return str(-((abs(chat.id) * 7919 + bot.id * 104729) % 10**19))


def _is_service(message: dict[str, Any]) -> bool:
    return any(
        key in message
        for key in (
            "new_chat_members",
            "left_chat_member",
            "migrate_to_chat_id",
            "migrate_from_chat_id",
            "group_chat_created",
            "supergroup_chat_created",
            "new_chat_title",
            "pinned_message",
        )
    )


def _addressed_to(
    bot: Bot, command: tuple[str, str | None] | None, message: dict[str, Any]
) -> bool:
    """Privacy mode: commands (bare or @this_bot) and replies to the bot's own messages."""
    if command is not None:
        target = command[1]
        return target is None or target.lower() == (bot.user.username or "").lower()
    reply = message.get("reply_to_message")
    return bool(reply and reply.get("from", {}).get("id") == bot.id)
