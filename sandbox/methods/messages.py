"""Sending, copying, forwarding, editing and deleting messages; answering callback queries;
paid broadcasting (allow_paid_broadcast and the bot's Star balance)."""

from __future__ import annotations

import json
import time
from typing import Any

from sandbox import errors
from sandbox import text as textmod
from sandbox.errors import bad_request
from sandbox.methods.base import Call, Methods
from sandbox.world import Bot, Chat, now

# allow_paid_broadcast costs 0.1 Star a message (api.json, sendMessage), in nanostars.
PAID_MESSAGE_NANOS = 100_000_000
NANOS_PER_STAR = 1_000_000_000
# deleteMessage: "A message can only be deleted if it was sent less than 48 hours ago".
DELETE_WINDOW_SECONDS = 48 * 3600

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


class MessageMethods(Methods):
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
        """Store a message the bot sends; bots never see each other's messages: no update.
        Sent with allow_paid_broadcast, it costs 0.1 Star, refused when the bot has less."""
        if call.get_bool("allow_paid_broadcast"):
            if bot.star_nanos < PAID_MESSAGE_NANOS:
                raise bad_request(errors.BALANCE_TOO_LOW)
            bot.star_nanos -= PAID_MESSAGE_NANOS
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
        if _too_old(message):
            raise bad_request(errors.MESSAGE_CANT_BE_DELETED_FOR_EVERYONE)
        chat.deleted[message_id] = chat.messages.pop(message_id)
        return True

    def deletemessages(self, call: Call) -> Any:
        chat = self.chat_of(call)
        ids = call.params.get("message_ids")
        if not isinstance(ids, list) or not ids or len(ids) > 100:
            raise bad_request(errors.MESSAGE_IDS_EMPTY)
        # Messages that can't be found or are too old are skipped, as deleteMessages documents.
        found = [
            int(i) for i in ids if int(i) in chat.messages and not _too_old(chat.messages[int(i)])
        ]
        for message_id in found:
            if not self._deletable(chat, call.bot, chat.messages[message_id]):
                raise bad_request(errors.MESSAGE_CANT_BE_DELETED)
        for message_id in found:
            chat.deleted[message_id] = chat.messages.pop(message_id)
        return True

    # ---- paid broadcasting ----------------------------------------------------------------

    def getmystarbalance(self, call: Call) -> Any:
        whole, nanos = divmod(call.bot.star_nanos, NANOS_PER_STAR)
        return {"amount": whole, "nanostar_amount": nanos}

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
        if len(call.get_str("text") or "") > 200:  # "0-200 characters"
            raise bad_request(errors.CALLBACK_TEXT_TOO_LONG)
        query.answered = True
        query.answer = {
            key: call.params[key]
            for key in ("text", "show_alert", "url", "cache_time")
            if key in call.params
        }
        return True


def _too_old(message: dict[str, Any]) -> bool:
    return bool(message["date"] <= now() - DELETE_WINDOW_SECONDS)


def _set_optional(message: dict[str, Any], key: str, value: Any) -> None:
    if value is None:
        message.pop(key, None)
    else:
        message[key] = value


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
