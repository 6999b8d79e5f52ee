"""The Bot API methods: Telegram's rules and answers, applied to the world.

Each public method of `BotApi` is named after a Bot API method in lower case and takes a `Call`.
It returns the `result` of the answer or raises `ApiError`.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from sandbox import errors
from sandbox import text as textmod
from sandbox.delivery import Delivery
from sandbox.errors import ApiError, bad_request, forbidden
from sandbox.limits import Settings
from sandbox.world import (
    DEFAULT_ALLOWED,
    LATE_PERMISSIONS,
    MEDIA_PERMISSIONS,
    PERMISSION_FIELDS,
    UPDATE_TYPES,
    Bot,
    Chat,
    World,
    now,
)

_SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")
_COMMAND = re.compile(r"[a-z0-9_]{1,32}")
_BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)


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


class BotApi:
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

    # ---- messages -------------------------------------------------------------------------

    def markup(self, call: Call) -> dict[str, Any] | None:
        value = call.params.get("reply_markup")
        if value is None or value == "":
            return None
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                raise bad_request(errors.CANT_PARSE_MARKUP) from None
        if not isinstance(value, dict):
            raise bad_request(errors.CANT_PARSE_MARKUP)
        rows = value.get("inline_keyboard")
        if rows is None:
            return None  # reply keyboards are shown to users, not kept on the Message
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise bad_request(errors.CANT_PARSE_MARKUP)
        for row in rows:
            for button in row:
                if not isinstance(button, dict) or "text" not in button:
                    raise bad_request(errors.CANT_PARSE_MARKUP)
                if not any(key in button for key in _BUTTON_ACTIONS):
                    raise bad_request(errors.TEXT_BUTTONS_UNALLOWED)
                data = button.get("callback_data")
                if data is not None and not 1 <= len(str(data).encode()) <= 64:
                    raise bad_request(errors.BUTTON_DATA_INVALID)
        return {"inline_keyboard": rows}

    def reply_target(self, call: Call, chat: Chat) -> dict[str, Any] | None:
        params = call.params.get("reply_parameters")
        allow_missing = call.get_bool("allow_sending_without_reply")
        message_id: Any = call.params.get("reply_to_message_id")
        if isinstance(params, dict):
            message_id = params.get("message_id")
            allow_missing = bool(params.get("allow_sending_without_reply", allow_missing))
        if message_id in (None, ""):
            return None
        try:
            message = chat.messages.get(int(message_id))
        except (TypeError, ValueError):
            message = None
        if message is None:
            if allow_missing:
                return None
            raise bad_request(errors.REPLY_NOT_FOUND)
        return self.world.reply_copy(message)

    def post(self, chat: Chat, bot: Bot, call: Call, **fields: Any) -> dict[str, Any]:
        """Store a message the bot sends; bots never see each other's messages: no update."""
        channel = chat.type == "channel"
        if call.get_bool("protect_content"):
            fields["has_protected_content"] = True
        message = self.world.new_message(
            chat, None if channel else bot.user, chat if channel else None, **fields
        )
        self.world.message_authors[(chat.id, chat.owner_bot_id, message["message_id"])] = bot.id
        return message

    def sendmessage(self, call: Call) -> Any:
        chat = self.chat_of(call)
        raw = call.get_str("text")
        if raw is None or not raw.strip():
            raise bad_request(errors.MESSAGE_TEXT_EMPTY)
        entities = call.params.get("entities")
        text, found = textmod.format_text(
            raw, call.get_str("parse_mode"), entities if isinstance(entities, list) else None
        )
        if not text.strip():
            raise bad_request(errors.MESSAGE_TEXT_EMPTY)
        if textmod.utf16_len(text) > 4096:
            raise bad_request(errors.MESSAGE_TOO_LONG)
        self.can_send(chat, call.bot, "can_send_messages", errors.NOT_ENOUGH_RIGHTS_SEND_TEXT)
        reply = self.reply_target(call, chat)
        markup = self.markup(call)
        return self.post(
            chat,
            call.bot,
            call,
            reply_to_message=reply,
            text=text,
            entities=found or None,
            reply_markup=markup,
        )

    def _caption(self, call: Call) -> tuple[str | None, list[dict[str, Any]] | None]:
        raw = call.get_str("caption")
        if not raw:
            return None, None
        entities = call.params.get("caption_entities")
        caption, found = textmod.format_text(
            raw, call.get_str("parse_mode"), entities if isinstance(entities, list) else None
        )
        if textmod.utf16_len(caption) > 1024:
            raise bad_request(errors.CAPTION_TOO_LONG)
        return caption, found or None

    def sendphoto(self, call: Call) -> Any:
        chat = self.chat_of(call)
        reference = call.params.get("photo")
        upload = call.files.get("photo")
        if isinstance(reference, str) and reference.startswith("attach://"):
            upload = call.files.get(reference[len("attach://") :])
        if upload is not None:
            sizes = self.world.photo_sizes(upload[1], None)
        elif isinstance(reference, str) and reference in self.world.files:
            sizes = self.world.photo_sizes(None, reference)
        elif isinstance(reference, str) and reference.startswith(("http://", "https://")):
            sizes = self.world.photo_sizes(b"\0" * 48_000, None)
        elif reference in (None, ""):
            raise bad_request(errors.NO_PHOTO)
        else:
            raise bad_request(errors.WRONG_FILE_ID)
        caption, caption_entities = self._caption(call)
        self.can_send(chat, call.bot, "can_send_photos", errors.NOT_ENOUGH_RIGHTS_SEND_PHOTO)
        reply = self.reply_target(call, chat)
        markup = self.markup(call)
        fields: dict[str, Any] = {
            "reply_to_message": reply,
            "photo": sizes,
            "caption": caption,
            "caption_entities": caption_entities,
            "reply_markup": markup,
        }
        if call.get_bool("has_spoiler"):
            fields["has_media_spoiler"] = True
        return self.post(chat, call.bot, call, **fields)

    def _source(self, call: Call, missing: str) -> dict[str, Any]:
        source_chat = self.chat_of(call, "from_chat_id", member_only=False)
        message_id = self.message_id_of(call)
        message = source_chat.messages.get(message_id)
        if message is None:
            raise bad_request(missing)
        return message

    def _content(self, message: dict[str, Any]) -> dict[str, Any]:
        return {
            key: message[key]
            for key in ("text", "entities", "photo", "caption", "caption_entities")
            if key in message
        }

    def copymessage(self, call: Call) -> Any:
        source = self._source(call, errors.MESSAGE_TO_COPY_NOT_FOUND)
        if "text" not in source and "photo" not in source:
            raise bad_request(errors.MESSAGE_CANT_BE_COPIED)
        chat = self.chat_of(call)
        content = self._content(source)
        if "photo" in content:
            self.can_send(chat, call.bot, "can_send_photos", errors.NOT_ENOUGH_RIGHTS_SEND_PHOTO)
        else:
            self.can_send(chat, call.bot, "can_send_messages", errors.NOT_ENOUGH_RIGHTS_SEND_TEXT)
        if "caption" in call.params:
            content.pop("caption", None)
            content.pop("caption_entities", None)
            caption, caption_entities = self._caption(call)
            content.update(caption=caption, caption_entities=caption_entities)
        reply = self.reply_target(call, chat)
        message = self.post(
            chat, call.bot, call, reply_to_message=reply, reply_markup=self.markup(call), **content
        )
        return {"message_id": message["message_id"]}

    def forwardmessage(self, call: Call) -> Any:
        source = self._source(call, errors.MESSAGE_TO_FORWARD_NOT_FOUND)
        if "text" not in source and "photo" not in source:
            raise bad_request(errors.MESSAGE_CANT_BE_COPIED)
        chat = self.chat_of(call)
        self.can_send(chat, call.bot, "can_send_messages", errors.NOT_ENOUGH_RIGHTS_SEND_TEXT)
        origin = source.get("forward_origin") or _origin_of(source)
        return self.post(chat, call.bot, call, forward_origin=origin, **self._content(source))

    def _own_message(self, call: Call, missing: str) -> tuple[Chat, dict[str, Any]]:
        if call.params.get("inline_message_id"):
            raise bad_request(errors.MESSAGE_ID_INVALID)
        chat = self.chat_of(call)
        message_id = self.message_id_of(call)
        message = chat.messages.get(message_id)
        if message is None:
            raise bad_request(missing)
        bot = call.bot
        if chat.type == "channel":
            own = "sender_chat" in message and self.world.has_right(
                chat, bot.id, "can_edit_messages"
            )
        else:
            own = message.get("from", {}).get("id") == bot.id
        if not own:
            raise bad_request(errors.MESSAGE_CANT_BE_EDITED)
        return chat, message

    def editmessagetext(self, call: Call) -> Any:
        _chat, message = self._own_message(call, errors.MESSAGE_TO_EDIT_NOT_FOUND)
        raw = call.get_str("text")
        if raw is None or not raw.strip():
            raise bad_request(errors.MESSAGE_TEXT_EMPTY)
        if "text" not in message:
            raise bad_request(errors.NO_TEXT_TO_EDIT)
        entities = call.params.get("entities")
        text, found = textmod.format_text(
            raw, call.get_str("parse_mode"), entities if isinstance(entities, list) else None
        )
        if textmod.utf16_len(text) > 4096:
            raise bad_request(errors.MESSAGE_TOO_LONG)
        markup = self.markup(call)
        if (
            text == message["text"]
            and (found or None) == message.get("entities")
            and markup == message.get("reply_markup")
        ):
            raise bad_request(errors.MESSAGE_NOT_MODIFIED)
        message["text"] = text
        _set_optional(message, "entities", found or None)
        _set_optional(message, "reply_markup", markup)
        message["edit_date"] = now()
        return message

    def editmessagereplymarkup(self, call: Call) -> Any:
        _chat, message = self._own_message(call, errors.MESSAGE_TO_EDIT_NOT_FOUND)
        markup = self.markup(call)
        if markup == message.get("reply_markup"):
            raise bad_request(errors.MESSAGE_NOT_MODIFIED)
        _set_optional(message, "reply_markup", markup)
        message["edit_date"] = now()
        return message

    def _deletable(self, chat: Chat, bot: Bot, message: dict[str, Any]) -> bool:
        if chat.type == "private":
            return True
        if chat.type != "channel" and message.get("from", {}).get("id") == bot.id:
            return True
        if chat.type == "group" and self.world.member(chat, bot.id).status == "administrator":
            return True
        return self.world.has_right(chat, bot.id, "can_delete_messages")

    def deletemessage(self, call: Call) -> Any:
        chat = self.chat_of(call)
        message_id = self.message_id_of(call)
        message = chat.messages.get(message_id)
        if message is None:
            raise bad_request(errors.MESSAGE_TO_DELETE_NOT_FOUND)
        if not self._deletable(chat, call.bot, message):
            raise bad_request(errors.MESSAGE_CANT_BE_DELETED)
        chat.deleted[message_id] = chat.messages.pop(message_id)
        return True

    def deletemessages(self, call: Call) -> Any:
        chat = self.chat_of(call)
        ids = call.params.get("message_ids")
        if not isinstance(ids, list) or not ids or len(ids) > 100:
            raise bad_request(errors.MESSAGE_IDS_EMPTY)
        found = [int(i) for i in ids if int(i) in chat.messages]
        for message_id in found:
            if not self._deletable(chat, call.bot, chat.messages[message_id]):
                raise bad_request(errors.MESSAGE_CANT_BE_DELETED)
        for message_id in found:
            chat.deleted[message_id] = chat.messages.pop(message_id)
        return True

    # ---- callback queries -----------------------------------------------------------------

    def answercallbackquery(self, call: Call) -> Any:
        query_id = call.get_str("callback_query_id") or ""
        query = self.world.callbacks.get(query_id)
        ttl = self.settings.scaled(self.settings.callback_query_ttl)
        if (
            query is None
            or query.bot_id != call.bot.id
            or query.answered
            or time.monotonic() - query.created > ttl
        ):
            raise bad_request(errors.QUERY_TOO_OLD)
        query.answered = True
        query.answer = {
            key: call.params[key]
            for key in ("text", "show_alert", "url", "cache_time")
            if key in call.params
        }
        return True

    # ---- chats and members ----------------------------------------------------------------

    def getchat(self, call: Call) -> Any:
        chat = self.chat_of(call, member_only=False)
        return self.world.chat_full_info(chat, call.bot)

    def getchatmember(self, call: Call) -> Any:
        chat = self.chat_of(call, member_only=False)
        user_id = self.user_of(call)
        bot = call.bot
        if chat.type == "private":
            if user_id not in (chat.id, bot.id):
                raise bad_request(errors.USER_NOT_FOUND)
            return {"user": self.world.user(user_id).api(), "status": "member"}
        if chat.type == "channel" and user_id != bot.id and not self.world.is_admin(chat, bot.id):
            raise bad_request(errors.MEMBER_LIST_INACCESSIBLE)
        return self.world.member_api(chat, self.world.member(chat, user_id))

    def getchatmembercount(self, call: Call) -> Any:
        chat = self.chat_of(call, member_only=False)
        if chat.type == "private":
            return 2
        return sum(1 for uid in list(chat.members) if self.world.member(chat, uid).in_chat)

    def getchatadministrators(self, call: Call) -> Any:
        chat = self.chat_of(call, member_only=False)
        bot = call.bot
        if chat.type == "private":
            raise bad_request(errors.NO_ADMINS_IN_PRIVATE)
        if chat.type == "channel" and not self.world.is_admin(chat, bot.id):
            raise bad_request(errors.MEMBER_LIST_INACCESSIBLE)
        return_bots = call.get_bool("return_bots")
        admins = [m for m in chat.members.values() if m.status in ("creator", "administrator")]
        admins.sort(key=lambda m: m.status != "creator")
        return [
            self.world.member_api(chat, m)
            for m in admins
            if return_bots or m.user_id == bot.id or m.user_id not in self.world.bots
        ]

    def _moderation_target(self, call: Call, chat: Chat) -> int:
        user_id = self.user_of(call)
        if user_id == call.bot.id:
            raise bad_request(errors.CANT_RESTRICT_SELF)
        self.need_right(chat, call.bot, "can_restrict_members", errors.NOT_ENOUGH_RIGHTS_RESTRICT)
        status = self.world.member(chat, user_id).status
        if status == "creator":
            raise bad_request(errors.CANT_REMOVE_OWNER)
        if status == "administrator":
            raise bad_request(errors.USER_IS_ADMIN)
        return user_id

    def restrictchatmember(self, call: Call) -> Any:
        chat = self.chat_of(call)
        if chat.type != "supergroup":
            raise bad_request(errors.ONLY_SUPERGROUPS)
        user_id = self._moderation_target(call, chat)
        permissions = call.params.get("permissions")
        if not isinstance(permissions, dict):
            raise bad_request(errors.CANT_PARSE_PERMISSIONS)
        granted = {name: bool(permissions.get(name, False)) for name in PERMISSION_FIELDS}
        for name in LATE_PERMISSIONS:
            # Clients older than these fields omit them; they keep the chat's default.
            if name not in permissions:
                granted[name] = bool(chat.permissions.get(name, False))
        if not call.get_bool("use_independent_chat_permissions"):
            if granted["can_send_other_messages"] or granted["can_add_web_page_previews"]:
                granted.update(dict.fromkeys(MEDIA_PERMISSIONS, True))
                granted["can_send_messages"] = True
            if granted["can_send_polls"] or any(granted[name] for name in MEDIA_PERMISSIONS):
                granted["can_send_messages"] = True
        until = _until(call.get_int("until_date", 0) or 0)
        member = self.world.member(chat, user_id)
        unrestricted = all(granted[name] for name, allowed in chat.permissions.items() if allowed)
        if unrestricted:
            if member.status == "restricted":
                status = "member" if member.is_member else "left"
                self._apply(chat, user_id, status, call.bot.id)
            return True
        self.world.set_member(
            chat,
            user_id,
            "restricted",
            actor_id=call.bot.id,
            permissions=granted,
            until_date=until,
            is_member=member.in_chat,
        )
        return True

    def _apply(self, chat: Chat, user_id: int, status: str, actor_id: int, **kw: Any) -> None:
        was_in_chat = self.world.member(chat, user_id).in_chat
        self.world.set_member(chat, user_id, status, actor_id=actor_id, **kw)
        if was_in_chat and status in ("left", "kicked") and chat.is_group_like:
            left = self.world.user(user_id).api()
            message = self.world.new_message(
                chat, self.world.user(actor_id), left_chat_member=left, left_chat_participant=left
            )
            self.world.route_message(chat, message, actor_id)

    def banchatmember(self, call: Call) -> Any:
        chat = self.chat_of(call)
        if chat.type == "private":
            raise bad_request(errors.SUPERGROUP_AND_CHANNEL_ONLY)
        user_id = self._moderation_target(call, chat)
        until = _until(call.get_int("until_date", 0) or 0)
        self._apply(chat, user_id, "kicked", call.bot.id, until_date=until)
        return True

    def unbanchatmember(self, call: Call) -> Any:
        chat = self.chat_of(call)
        if chat.type not in ("supergroup", "channel"):
            raise bad_request(errors.SUPERGROUP_AND_CHANNEL_ONLY)
        user_id = self.user_of(call)
        self.need_right(chat, call.bot, "can_restrict_members", errors.NOT_ENOUGH_RIGHTS_RESTRICT)
        member = self.world.member(chat, user_id)
        if call.get_bool("only_if_banned"):
            if member.status == "kicked":
                self._apply(chat, user_id, "left", call.bot.id)
            return True
        user_id = self._moderation_target(call, chat)
        if member.status != "left":
            self._apply(chat, user_id, "left", call.bot.id)
        return True

    def _join_request(self, call: Call) -> tuple[Chat, int, dict[str, Any]]:
        chat = self.chat_of(call)
        user_id = self.user_of(call)
        self.need_right(chat, call.bot, "can_invite_users", errors.CHAT_ADMIN_REQUIRED)
        if self.world.member(chat, user_id).in_chat:
            raise bad_request(errors.USER_ALREADY_PARTICIPANT)
        request = chat.join_requests.pop(user_id, None)
        if request is None:
            raise bad_request(errors.HIDE_REQUESTER_MISSING)
        return chat, user_id, request

    def approvechatjoinrequest(self, call: Call) -> Any:
        chat, user_id, request = self._join_request(call)
        self.world.set_member(
            chat,
            user_id,
            "member",
            actor_id=call.bot.id,
            invite_link=request.get("invite_link"),
            via_join_request=True,
        )
        if chat.is_group_like:
            user = self.world.user(user_id)
            message = self.world.new_message(
                chat,
                user,
                new_chat_members=[user.api()],
                new_chat_member=user.api(),
                new_chat_participant=user.api(),
            )
            self.world.route_message(chat, message, user_id)
        return True

    def declinechatjoinrequest(self, call: Call) -> Any:
        self._join_request(call)
        return True

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


ASYNC_METHODS = frozenset({"getupdates"})
METHOD_NAMES = {
    name.lower(): name
    for name in (
        "getMe",
        "getUpdates",
        "setWebhook",
        "deleteWebhook",
        "getWebhookInfo",
        "sendMessage",
        "sendPhoto",
        "copyMessage",
        "forwardMessage",
        "editMessageText",
        "editMessageReplyMarkup",
        "deleteMessage",
        "deleteMessages",
        "answerCallbackQuery",
        "getChat",
        "getChatMember",
        "getChatMemberCount",
        "getChatAdministrators",
        "restrictChatMember",
        "banChatMember",
        "unbanChatMember",
        "approveChatJoinRequest",
        "declineChatJoinRequest",
        "createChatInviteLink",
        "exportChatInviteLink",
        "leaveChat",
        "setMyCommands",
        "getMyCommands",
        "deleteMyCommands",
    )
}
# Old names Telegram still answers to.
ALIASES = {"getchatmemberscount": "getchatmembercount", "kickchatmember": "banchatmember"}


def _set_optional(message: dict[str, Any], key: str, value: Any) -> None:
    if value is None:
        message.pop(key, None)
    else:
        message[key] = value


def _until(until_date: int) -> int:
    """Telegram treats a restriction shorter than 30 s or longer than 366 days as forever."""
    if until_date <= 0:
        return 0
    left = until_date - now()
    return until_date if 30 <= left <= 366 * 86400 else 0


def _origin_of(message: dict[str, Any]) -> dict[str, Any]:
    sender_chat = message.get("sender_chat")
    if sender_chat is not None and sender_chat.get("type") == "channel":
        return {
            "type": "channel",
            "date": message["date"],
            "chat": sender_chat,
            "message_id": message["message_id"],
        }
    if sender_chat is not None:
        return {"type": "chat", "date": message["date"], "sender_chat": sender_chat}
    return {"type": "user", "date": message["date"], "sender_user": message["from"]}
