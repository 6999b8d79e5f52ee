"""Chat members: who is in a chat, restricting, banning, and join requests."""

from __future__ import annotations

from typing import Any

from sandbox import errors
from sandbox.errors import bad_request
from sandbox.methods.base import Call, Methods
from sandbox.world import LATE_PERMISSIONS, MEDIA_PERMISSIONS, PERMISSION_FIELDS, Chat, now


class MemberMethods(Methods):
    # ---- members --------------------------------------------------------------------------

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


def _until(until_date: int) -> int:
    """Telegram treats a restriction shorter than 30 s or longer than 366 days as forever."""
    if until_date <= 0:
        return 0
    left = until_date - now()
    return until_date if 30 <= left <= 366 * 86400 else 0
