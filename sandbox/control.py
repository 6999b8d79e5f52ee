"""The control API under `/_sandbox/`: build a world, act in it, read back what bots did.

Bots are named by username (with or without @), token, or id. Every action answers with the
`update_ids` it produced (ids are unique across bots) and `updates` (bot, update_id, type).
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from sandbox import text as textmod
from sandbox.faults import Fault
from sandbox.world import (
    ADMIN_RIGHTS,
    CHANNEL_ADMIN_RIGHTS,
    CHANNEL_BOT_ID,
    GROUP_ADMIN_RIGHTS,
    GROUP_ANONYMOUS_BOT_ID,
    PERMISSION_FIELDS,
    CallbackQuery,
    Chat,
    Update,
    User,
    World,
    advance_clock,
    clock_offset,
    now,
)

if TYPE_CHECKING:
    from sandbox.server import Sandbox

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_RIGHT_NAMES = frozenset(ADMIN_RIGHTS + CHANNEL_ADMIN_RIGHTS + GROUP_ADMIN_RIGHTS)


class ControlError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _json(payload: Any, status: int = 200) -> web.Response:
    return web.Response(
        body=json.dumps(payload, ensure_ascii=False).encode(),
        status=status,
        content_type="application/json",
    )


def _produced(updates: list[Update], world: World, **extra: Any) -> dict[str, Any]:
    return {
        "update_ids": [u.update_id for u in updates],
        "updates": [
            {
                "bot": world.bots[u.bot_id].user.username,
                "update_id": u.update_id,
                "type": u.kind,
            }
            for u in updates
        ],
        **extra,
    }


class Control:
    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    @property
    def world(self) -> World:
        return self.sandbox.world

    def register(self, router: web.UrlDispatcher) -> None:
        routes: list[tuple[str, str, Handler]] = [
            ("GET", "/_sandbox/health", self.health),
            ("POST", "/_sandbox/reset", self.reset),
            ("POST", "/_sandbox/bots", self.create_bot),
            ("GET", "/_sandbox/bots/{bot}", self.get_bot),
            ("POST", "/_sandbox/bots/{bot}", self.update_bot),
            ("GET", "/_sandbox/clock", self.get_clock),
            ("POST", "/_sandbox/clock", self.move_clock),
            ("POST", "/_sandbox/users", self.create_user),
            ("POST", "/_sandbox/chats", self.create_chat),
            ("GET", "/_sandbox/chats/{chat_id}", self.get_chat),
            ("POST", "/_sandbox/chats/{chat_id}", self.update_chat),
            ("POST", "/_sandbox/chats/{chat_id}/members", self.set_member),
            ("GET", "/_sandbox/chats/{chat_id}/members", self.list_members),
            ("GET", "/_sandbox/chats/{chat_id}/members/{user_id}", self.get_member),
            ("GET", "/_sandbox/chats/{chat_id}/messages", self.list_messages),
            ("GET", "/_sandbox/chats/{chat_id}/join_requests", self.list_join_requests),
            ("POST", "/_sandbox/act/message", self.act_message),
            ("POST", "/_sandbox/act/join", self.act_join),
            ("POST", "/_sandbox/act/leave", self.act_leave),
            ("POST", "/_sandbox/act/press", self.act_press),
            ("POST", "/_sandbox/act/start", self.act_start),
            ("POST", "/_sandbox/act/block", self.act_block),
            ("POST", "/_sandbox/act/unblock", self.act_unblock),
            ("POST", "/_sandbox/act/migrate", self.act_migrate),
            ("POST", "/_sandbox/act/add_bot", self.act_add_bot),
            ("GET", "/_sandbox/calls", self.calls),
            ("GET", "/_sandbox/updates", self.updates),
            ("GET", "/_sandbox/limits", self.get_limits),
            ("POST", "/_sandbox/limits", self.set_limits),
            ("GET", "/_sandbox/faults", self.get_faults),
            ("POST", "/_sandbox/faults", self.add_fault),
            ("DELETE", "/_sandbox/faults", self.clear_faults),
            ("GET", "/_sandbox/webhook/{bot}", self.webhook),
        ]
        for method, path, handler in routes:
            router.add_route(method, path, self._guard(handler))

    def _guard(self, handler: Handler) -> Handler:
        async def guarded(request: web.Request) -> web.StreamResponse:
            try:
                return await handler(request)
            except ControlError as exc:
                return _json({"ok": False, "error": str(exc)}, exc.status)
            except LookupError as exc:
                return _json({"ok": False, "error": str(exc).strip("'\"")}, 404)
            except (ValueError, TypeError) as exc:
                return _json({"ok": False, "error": str(exc)}, 400)

        return guarded

    async def _body(self, request: web.Request) -> dict[str, Any]:
        if not request.body_exists:
            return {}
        body = await request.json()
        if not isinstance(body, dict):
            raise ValueError("a JSON object is expected")
        return body

    def _chat(self, raw: Any) -> Chat:
        chat = self.world.chat(int(raw))
        if chat.migrated_to is not None:
            raise ControlError(400, f"chat {chat.id} was migrated to {chat.migrated_to}")
        return chat

    def _user(self, raw: Any) -> User:
        if raw is None:
            raise ValueError("user_id is required")
        return self.world.user(int(raw))

    # ---- world ----------------------------------------------------------------------------

    async def health(self, request: web.Request) -> web.Response:
        return _json({"ok": True})

    async def reset(self, request: web.Request) -> web.Response:
        self.sandbox.reset()
        return _json({"ok": True})

    async def create_bot(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        bot = self.world.add_bot(
            token=str(body["token"]),
            username=str(body["username"]),
            first_name=body.get("first_name"),
            can_read_all_group_messages=bool(body.get("can_read_all_group_messages", False)),
            can_join_groups=bool(body.get("can_join_groups", True)),
        )
        return _json({**bot.get_me(), "token": bot.token})

    async def get_bot(self, request: web.Request) -> web.Response:
        bot = self.world.bot_named(request.match_info["bot"])
        return _json(
            {
                **bot.get_me(),
                "token": bot.token,
                "started_by": sorted(bot.started_by),
                "blocked_by": sorted(bot.blocked_by),
                "allowed_updates": sorted(bot.allowed_updates),
                "webhook": bot.webhook.url if bot.webhook else None,
                "pending_update_count": len(bot.pending),
                "commands": list(bot.commands.values()),
                "star_balance": bot.star_nanos / 1_000_000_000,
            }
        )

    async def update_bot(self, request: web.Request) -> web.Response:
        """`star_balance` (Stars, may be fractional): what paid broadcasting draws on."""
        bot = self.world.bot_named(request.match_info["bot"])
        body = await self._body(request)
        if "star_balance" in body:
            stars = float(body["star_balance"])
            if stars < 0:
                raise ValueError("star_balance must not be negative")
            bot.star_nanos = round(stars * 1_000_000_000)
        return await self.get_bot(request)

    async def get_clock(self, request: web.Request) -> web.Response:
        return _json({"now": now(), "offset": clock_offset()})

    async def move_clock(self, request: web.Request) -> web.Response:
        """`advance` seconds forward: the dates Telegram reports (and judges messages by) move;
        limits and webhook timing do not."""
        body = await self._body(request)
        advance_clock(float(body.get("advance") or 0))
        return await self.get_clock(request)

    async def create_user(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        user = self.world.add_user(
            first_name=str(body["first_name"]),
            id=int(body["id"]) if body.get("id") is not None else None,
            username=body.get("username"),
            last_name=body.get("last_name"),
            language_code=body.get("language_code", "en"),
            is_premium=bool(body.get("is_premium", False)),
        )
        return _json(user.api())

    def _chat_state(self, chat: Chat) -> dict[str, Any]:
        return {
            **chat.api(),
            "join_by_request": chat.join_by_request,
            "description": chat.description,
            "linked_chat_id": chat.linked_chat_id,
            "permissions": chat.permissions,
            "migrated_to": chat.migrated_to,
            "migrated_from": chat.migrated_from,
            "member_count": sum(
                1 for uid in list(chat.members) if self.world.member(chat, uid).in_chat
            ),
            "invite_links": [
                self.world.invite_link_api(link) for link in chat.invite_links.values()
            ],
            "primary_link": chat.primary_link,
        }

    async def create_chat(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        chat = self.world.add_chat(
            type=str(body["type"]),
            title=body.get("title"),
            username=body.get("username"),
            join_by_request=bool(body.get("join_by_request", False)),
            id=int(body["id"]) if body.get("id") is not None else None,
            owner_id=int(body["owner_id"]) if body.get("owner_id") is not None else None,
            description=body.get("description"),
            linked_chat_id=body.get("linked_chat_id"),
            permissions=body.get("permissions"),
            is_forum=bool(body.get("is_forum", False)),
        )
        return _json(self._chat_state(chat))

    async def get_chat(self, request: web.Request) -> web.Response:
        return _json(self._chat_state(self.world.chat(int(request.match_info["chat_id"]))))

    async def update_chat(self, request: web.Request) -> web.Response:
        chat = self._chat(request.match_info["chat_id"])
        body = await self._body(request)
        if "permissions" in body:
            chat.permissions.update({k: bool(v) for k, v in body["permissions"].items()})
        for key in ("join_by_request", "description", "linked_chat_id", "title"):
            if key in body:
                setattr(chat, key, body[key])
        chat._api = None
        return _json(self._chat_state(chat))

    async def set_member(self, request: web.Request) -> web.Response:
        chat = self._chat(request.match_info["chat_id"])
        body = await self._body(request)
        if body.get("bot") is not None:
            user_id = self.world.bot_named(body["bot"]).id
        else:
            user_id = self._user(body.get("user_id")).id
        status = str(body.get("status", "member"))
        updates = self._set_status(chat, user_id, status, body)
        member = self.world.member_api(chat, self.world.member(chat, user_id))
        return _json(_produced(updates, self.world, member=member))

    def _set_status(
        self, chat: Chat, user_id: int, status: str, body: dict[str, Any]
    ) -> list[Update]:
        rights = dict(body.get("rights") or {})
        permissions = dict(body.get("permissions") or {})
        for key, value in body.items():
            if status == "administrator" and key in _RIGHT_NAMES:
                rights[key] = bool(value)
            elif status == "restricted" and key in PERMISSION_FIELDS:
                permissions[key] = bool(value)
        actor = body.get("by")
        return self.world.set_member(
            chat,
            user_id,
            status,
            actor_id=int(actor) if actor is not None else None,
            rights=rights,
            permissions=permissions,
            until_date=int(body.get("until_date") or 0),
            is_member=body.get("is_member", True if status == "restricted" else None),
            custom_title=body.get("custom_title"),
            is_anonymous=bool(body.get("is_anonymous", False)),
        )

    async def list_members(self, request: web.Request) -> web.Response:
        chat = self.world.chat(int(request.match_info["chat_id"]))
        members = [
            self.world.member_api(chat, self.world.member(chat, uid)) for uid in chat.members
        ]
        return _json({"members": members})

    async def get_member(self, request: web.Request) -> web.Response:
        chat = self.world.chat(int(request.match_info["chat_id"]))
        user_id = self._user(request.match_info["user_id"]).id
        return _json(self.world.member_api(chat, self.world.member(chat, user_id)))

    async def list_messages(self, request: web.Request) -> web.Response:
        chat_id = int(request.match_info["chat_id"])
        include_deleted = request.query.get("include_deleted") in ("1", "true")
        chats: list[Chat]
        if chat_id in self.world.chats:
            chats = [self.world.chats[chat_id]]
        else:
            bot_name = request.query.get("bot")
            bot_id = self.world.bot_named(bot_name).id if bot_name else None
            chats = [
                chat
                for (owner, user_id), chat in self.world.private.items()
                if user_id == chat_id and bot_id in (None, owner)
            ]
            if not chats and chat_id not in self.world.users:
                raise LookupError(f"chat {chat_id} not found")
        messages: list[dict[str, Any]] = []
        for chat in chats:
            messages.extend(chat.messages.values())
            if include_deleted:
                messages.extend({**m, "deleted": True} for m in chat.deleted.values())
        messages.sort(key=lambda m: (m["date"], m["message_id"]))
        return _json({"messages": messages})

    async def list_join_requests(self, request: web.Request) -> web.Response:
        chat = self.world.chat(int(request.match_info["chat_id"]))
        return _json({"join_requests": list(chat.join_requests.values())})

    # ---- actions --------------------------------------------------------------------------

    def _special_user(self, user_id: int, first_name: str, username: str) -> User:
        user = self.world.users.get(user_id)
        if user is None:
            user = self.world.add_user(first_name, id=user_id, username=username, is_bot=True)
        return user

    async def act_message(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        world = self.world
        fields: dict[str, Any] = {}
        text = body.get("text")
        if text:
            fields["text"] = text
            entities = body.get("entities")
            fields["entities"] = entities if entities is not None else textmod.detect_entities(text)
            if not fields["entities"]:
                del fields["entities"]
        if body.get("photo"):
            fields["photo"] = world.photo_sizes(b"\0" * 64_000, None)
            caption = body.get("caption")
            if caption:
                fields["caption"] = caption
                found = textmod.detect_entities(caption)
                if found:
                    fields["caption_entities"] = found
        if not fields:
            raise ValueError("text or photo is required")
        updates: list[Update] = []
        if body.get("bot") is not None or (
            body.get("chat_id") is not None and int(body["chat_id"]) in world.bots
        ):
            bot = world.bot_named(body.get("bot") or body["chat_id"])
            user = self._user(body.get("user_id"))
            if user.id in bot.blocked_by:
                updates += self._unblock(bot.id, user)
            bot.started_by.add(user.id)
            chat = world.private_chat(bot, user)
            sender: User | None = user
            sender_chat: Chat | None = None
        else:
            chat = self._chat(body.get("chat_id"))
            sender, sender_chat = self._sender(chat, body, fields)
        reply_to = body.get("reply_to")
        if reply_to is not None:
            replied = chat.messages.get(int(reply_to))
            if replied is None:
                raise ControlError(400, f"message {reply_to} not found in chat {chat.id}")
            fields["reply_to_message"] = world.reply_copy(replied)
        message = world.new_message(chat, sender, sender_chat, **fields)
        updates += world.route_message(chat, message, sender.id if sender else None)
        if chat.type == "channel" and chat.linked_chat_id in world.chats:
            updates += self._automatic_forward(chat, message)
        return _json(
            _produced(
                updates, world, message_id=message["message_id"], chat_id=chat.id, message=message
            )
        )

    def _sender(
        self, chat: Chat, body: dict[str, Any], fields: dict[str, Any]
    ) -> tuple[User | None, Chat | None]:
        world = self.world
        sender_chat_id = body.get("sender_chat_id")
        if chat.type == "channel":
            if body.get("user_id") is not None:
                user = self._user(body["user_id"])
                if not world.is_admin(chat, user.id):
                    raise ControlError(400, "only channel administrators can post")
            return None, chat
        if body.get("is_automatic_forward"):
            channel = world.chat(int(sender_chat_id or chat.linked_chat_id or 0))
            fields["is_automatic_forward"] = True
            fields["forward_origin"] = {
                "type": "channel",
                "date": now(),
                "chat": channel.api(),
                "message_id": channel.next_message_id,
            }
            return self._special_user(CHANNEL_BOT_ID, "Telegram", "Channel_Bot"), channel
        if sender_chat_id is not None:
            sender_chat = world.chat(int(sender_chat_id))
            if sender_chat.id == chat.id:
                anonymous = self._special_user(GROUP_ANONYMOUS_BOT_ID, "Group", "GroupAnonymousBot")
                return anonymous, chat
            return self._special_user(CHANNEL_BOT_ID, "Telegram", "Channel_Bot"), sender_chat
        user = self._user(body.get("user_id"))
        member = world.member(chat, user.id)
        if not member.in_chat:
            raise ControlError(400, f"user {user.id} is not a member of chat {chat.id}")
        if member.status == "restricted":
            needed = "can_send_photos" if "photo" in fields else "can_send_messages"
            if not member.permissions.get(needed):
                raise ControlError(400, f"user {user.id} is restricted in chat {chat.id}")
        return user, None

    def _automatic_forward(self, channel: Chat, post: dict[str, Any]) -> list[Update]:
        group = self.world.chats[channel.linked_chat_id or 0]
        fields = {k: post[k] for k in ("text", "entities", "photo", "caption") if k in post}
        message = self.world.new_message(
            group,
            self._special_user(CHANNEL_BOT_ID, "Telegram", "Channel_Bot"),
            channel,
            is_automatic_forward=True,
            forward_origin={
                "type": "channel",
                "date": post["date"],
                "chat": channel.api(),
                "message_id": post["message_id"],
            },
            **fields,
        )
        return self.world.route_message(group, message, CHANNEL_BOT_ID)

    async def act_join(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        world = self.world
        chat = self._chat(body.get("chat_id"))
        user = self._user(body.get("user_id"))
        member = world.member(chat, user.id)
        if member.in_chat:
            raise ControlError(400, "USER_ALREADY_PARTICIPANT")
        if member.status == "kicked":
            raise ControlError(400, "USER_BANNED_IN_CHANNEL")
        link = chat.invite_links.get(body.get("invite_link") or "")
        link_api = world.invite_link_api(link) if link else None
        updates: list[Update] = []
        if chat.join_by_request or (link and link["creates_join_request"]):
            if user.id in chat.join_requests:
                return _json(_produced([], world, status="requested"))
            request_obj: dict[str, Any] = {
                "chat": chat.api(),
                "from": user.api(),
                "user_chat_id": user.id,
                "date": now(),
            }
            if link is not None:
                link["pending_join_request_count"] = len(chat.join_requests) + 1
                request_obj["invite_link"] = world.invite_link_api(link)
            chat.join_requests[user.id] = request_obj
            for bot in world.bots_in(chat):
                if world.has_right(chat, bot.id, "can_invite_users"):
                    update = world.emit(bot, "chat_join_request", request_obj, chat.id)
                    if update:
                        updates.append(update)
            return _json(_produced(updates, world, status="requested"))
        if chat.is_group_like:
            message = world.new_message(
                chat,
                user,
                new_chat_members=[user.api()],
                new_chat_member=user.api(),
                new_chat_participant=user.api(),
            )
            updates += world.route_message(chat, message, user.id)
        updates += world.set_member(chat, user.id, "member", actor_id=user.id, invite_link=link_api)
        return _json(_produced(updates, world, status="member"))

    async def act_leave(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        world = self.world
        chat = self._chat(body.get("chat_id"))
        user = self._user(body.get("user_id"))
        if not world.member(chat, user.id).in_chat:
            raise ControlError(400, "USER_NOT_PARTICIPANT")
        updates: list[Update] = []
        if chat.is_group_like:
            message = world.new_message(
                chat, user, left_chat_member=user.api(), left_chat_participant=user.api()
            )
            updates += world.route_message(chat, message, user.id)
        updates += world.set_member(chat, user.id, "left", actor_id=user.id)
        return _json(_produced(updates, world, status="left"))

    async def act_press(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        world = self.world
        user = self._user(body.get("user_id"))
        chat_id = int(body["chat_id"])
        message_id = int(body["message_id"])
        chat, message = self._find_bot_message(chat_id, message_id, body.get("bot"))
        sender_bot = world.message_authors.get((chat.id, chat.owner_bot_id, message_id))
        if sender_bot is None:
            raise ControlError(400, f"message {message_id} was not sent by a bot")
        buttons = [
            button
            for row in (message.get("reply_markup") or {}).get("inline_keyboard", [])
            for button in row
            if "callback_data" in button
        ]
        data = body.get("data")
        if data is None:
            if not buttons:
                raise ControlError(400, "the message has no callback button")
            data = buttons[0]["callback_data"]
        elif data not in [b["callback_data"] for b in buttons]:
            raise ControlError(400, "BUTTON_DATA_INVALID")
        bot = world.bots[sender_bot]
        query = CallbackQuery(
            id=world.new_callback_id(), bot_id=bot.id, user_id=user.id, created=time.monotonic()
        )
        world.callbacks[query.id] = query
        payload = {
            "id": query.id,
            "from": user.api(),
            "message": message,
            "chat_instance": world.chat_instance(bot, chat),
            "data": data,
        }
        update = world.emit(bot, "callback_query", payload, chat.id)
        return _json(
            _produced([update] if update else [], world, callback_query_id=query.id, data=data)
        )

    def _find_bot_message(
        self, chat_id: int, message_id: int, bot_name: str | None
    ) -> tuple[Chat, dict[str, Any]]:
        world = self.world
        if chat_id in world.chats:
            chat = self._chat(chat_id)
            message = chat.messages.get(message_id)
            if message is None:
                raise ControlError(400, f"message {message_id} not found in chat {chat_id}")
            return chat, message
        bot_id = world.bot_named(bot_name).id if bot_name else None
        for (owner, user_id), chat in reversed(list(world.private.items())):
            if user_id == chat_id and bot_id in (None, owner) and message_id in chat.messages:
                return chat, chat.messages[message_id]
        raise ControlError(400, f"message {message_id} not found in chat {chat_id}")

    async def act_start(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        world = self.world
        bot = world.bot_named(body["bot"])
        user = self._user(body.get("user_id"))
        updates: list[Update] = []
        if user.id in bot.blocked_by:
            updates += self._unblock(bot.id, user)
        bot.started_by.add(user.id)
        chat = world.private_chat(bot, user)
        payload = body.get("payload")
        text = "/start" + (f" {payload}" if payload else "")
        message = world.new_message(
            chat, user, text=text, entities=[{"offset": 0, "length": 6, "type": "bot_command"}]
        )
        updates += world.route_message(chat, message, user.id)
        return _json(_produced(updates, world, message_id=message["message_id"], chat_id=chat.id))

    def _private_status_change(self, bot_id: int, user: User, old: str, new: str) -> list[Update]:
        world = self.world
        bot = world.bots[bot_id]
        chat = world.private_chat(bot, user)

        def member(status: str) -> dict[str, Any]:
            obj: dict[str, Any] = {"user": bot.user.api(), "status": status}
            if status == "kicked":
                obj["until_date"] = 0
            return obj

        payload = {
            "chat": chat.api(),
            "from": user.api(),
            "date": now(),
            "old_chat_member": member(old),
            "new_chat_member": member(new),
        }
        update = world.emit(bot, "my_chat_member", payload, chat.id)
        return [update] if update else []

    def _unblock(self, bot_id: int, user: User) -> list[Update]:
        self.world.bots[bot_id].blocked_by.discard(user.id)
        return self._private_status_change(bot_id, user, "kicked", "member")

    async def act_block(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        bot = self.world.bot_named(body["bot"])
        user = self._user(body.get("user_id"))
        if user.id in bot.blocked_by:
            return _json(_produced([], self.world))
        bot.blocked_by.add(user.id)
        updates = self._private_status_change(bot.id, user, "member", "kicked")
        return _json(_produced(updates, self.world))

    async def act_unblock(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        bot = self.world.bot_named(body["bot"])
        user = self._user(body.get("user_id"))
        if user.id not in bot.blocked_by:
            return _json(_produced([], self.world))
        return _json(_produced(self._unblock(bot.id, user), self.world))

    async def act_migrate(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        world = self.world
        group = self._chat(body.get("chat_id"))
        if group.type != "group":
            raise ControlError(400, "only basic groups can be migrated")
        actor_id = int(body["by"]) if body.get("by") is not None else world._default_actor(group, 0)
        supergroup = world.add_chat(
            "supergroup",
            title=group.title,
            join_by_request=group.join_by_request,
            permissions=group.permissions,
            description=group.description,
        )
        supergroup.members = {uid: world.member(group, uid) for uid in list(group.members)}
        supergroup.bot_ids = set(group.bot_ids)
        supergroup.migrated_from = group.id
        actor = world.users.get(actor_id) or self._special_user(
            GROUP_ANONYMOUS_BOT_ID, "Group", "GroupAnonymousBot"
        )
        updates = world.route_message(
            group, world.new_message(group, actor, migrate_to_chat_id=supergroup.id), actor.id
        )
        anonymous = self._special_user(GROUP_ANONYMOUS_BOT_ID, "Group", "GroupAnonymousBot")
        updates += world.route_message(
            supergroup,
            world.new_message(supergroup, anonymous, supergroup, migrate_from_chat_id=group.id),
            anonymous.id,
        )
        group.migrated_to = supergroup.id
        return _json(
            _produced(updates, world, chat_id=supergroup.id, migrate_to_chat_id=supergroup.id)
        )

    async def act_add_bot(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        world = self.world
        chat = self._chat(body.get("chat_id"))
        bot = world.bot_named(body["bot"])
        status = str(body.get("status", "member"))
        was_in_chat = world.member(chat, bot.id).in_chat
        if body.get("by") is None:
            body["by"] = world._default_actor(chat, bot.id)
        updates: list[Update] = []
        actor = world.user(int(body["by"]))
        if not was_in_chat and chat.is_group_like:
            message = world.new_message(
                chat,
                actor,
                new_chat_members=[bot.user.api()],
                new_chat_member=bot.user.api(),
                new_chat_participant=bot.user.api(),
            )
            updates += self._set_status(chat, bot.id, status, body)
            updates += world.route_message(chat, message, actor.id)
        else:
            updates += self._set_status(chat, bot.id, status, body)
        member = world.member_api(chat, world.member(chat, bot.id))
        return _json(_produced(updates, world, member=member))

    # ---- reading back ---------------------------------------------------------------------

    async def calls(self, request: web.Request) -> web.Response:
        query = request.query
        bot = query.get("bot")
        if bot:
            try:
                bot = self.world.bot_named(bot).user.username
            except LookupError:
                bot = str(bot).lstrip("@")
        chat_id = query.get("chat_id")
        found = self.sandbox.calls.query(
            bot=bot or None,
            method=query.get("method") or None,
            chat_id=int(chat_id) if chat_id else None,
            since=int(query.get("since") or 0),
        )
        return _json({"calls": found})

    async def updates(self, request: web.Request) -> web.Response:
        world = self.world
        name = request.query.get("bot")
        bot_id = world.bot_named(name).id if name else None
        since = int(request.query.get("since") or 0)
        found = [
            {
                "bot": world.bots[u.bot_id].user.username,
                "update_id": u.update_id,
                "type": u.kind,
                "update": u.api(),
                "pending": u.update_id in world.bots[u.bot_id].pending,
            }
            for u in world.updates
            if u.update_id > since and bot_id in (None, u.bot_id)
        ]
        return _json({"updates": found})

    async def get_limits(self, request: web.Request) -> web.Response:
        return _json(self.sandbox.settings.as_dict())

    async def set_limits(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        try:
            self.sandbox.settings.update(body)
        except KeyError as exc:
            raise ControlError(400, f"unknown setting {exc}") from None
        return _json(self.sandbox.settings.as_dict())

    async def get_faults(self, request: web.Request) -> web.Response:
        return _json({"faults": [f.as_dict() for f in self.sandbox.faults]})

    async def add_fault(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        self.sandbox.faults.append(Fault(body))
        return _json({"faults": [f.as_dict() for f in self.sandbox.faults]})

    async def clear_faults(self, request: web.Request) -> web.Response:
        self.sandbox.faults.clear()
        return _json({"faults": []})

    async def webhook(self, request: web.Request) -> web.Response:
        bot = self.world.bot_named(request.match_info["bot"])
        return _json(self.sandbox.delivery.report(bot))
