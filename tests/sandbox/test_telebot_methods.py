"""pyTelegramBotAPI drives every Bot API method the sandbox serves, on the success path and on
Telegram's refusals; every object it gets back goes through its de_json."""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from typing import Any

import pytest
import telebot
from telebot import types
from telebot.apihelper import ApiTelegramException

from sandbox.client import Sandbox
from tests.sandbox.conftest import OTHER_TOKEN
from tests.sandbox.schema import spec


def refusal(call: Callable[[], Any]) -> tuple[int, str, dict[str, Any]]:
    with pytest.raises(ApiTelegramException) as caught:
        call()
    error = caught.value
    return error.error_code, error.description, error.result_json.get("parameters") or {}


def keyboard(*data: str) -> types.InlineKeyboardMarkup:
    markup = types.InlineKeyboardMarkup()
    markup.row(*(types.InlineKeyboardButton(d.title(), callback_data=d) for d in data))
    return markup


def test_get_me_describes_the_bot(tb: telebot.TeleBot, world: dict[str, Any]) -> None:
    me = tb.get_me()
    assert (me.id, me.is_bot, me.username) == (5000001, True, "guard_bot")
    assert me.can_join_groups is True
    assert me.can_read_all_group_messages is False


def test_unknown_token_is_unauthorized(tb: telebot.TeleBot, world: dict[str, Any]) -> None:
    stranger = telebot.TeleBot("999:nope", threaded=False)
    assert refusal(stranger.get_me)[:2] == (401, "Unauthorized")


def test_send_message_returns_the_message_with_markup_and_entities(
    tb: telebot.TeleBot, world: dict[str, Any]
) -> None:
    group = world["group"]["id"]
    sent = tb.send_message(
        group, "Hi <b>all</b>, see /rules", parse_mode="HTML", reply_markup=keyboard("ok")
    )
    assert sent.chat.id == group and sent.chat.type == "supergroup"
    assert sent.from_user.id == 5000001
    assert sent.text == "Hi all, see /rules"
    assert [(e.type, e.offset, e.length) for e in sent.entities] == [
        ("bold", 3, 3),
        ("bot_command", 12, 6),
    ]
    assert sent.reply_markup.keyboard[0][0].callback_data == "ok"


def test_send_message_refusals(tb: telebot.TeleBot, sb: Sandbox, world: dict[str, Any]) -> None:
    assert refusal(lambda: tb.send_message(-100999, "x"))[:2] == (
        400,
        "Bad Request: chat not found",
    )
    assert refusal(lambda: tb.send_message(world["group"]["id"], " "))[:2] == (
        400,
        "Bad Request: message text is empty",
    )
    assert refusal(lambda: tb.send_message(world["group"]["id"], "x" * 4097))[:2] == (
        400,
        "Bad Request: message is too long",
    )
    assert refusal(lambda: tb.send_message(world["group"]["id"], "<b>x", parse_mode="HTML"))[
        1
    ].startswith("Bad Request: can't parse entities: ")
    assert refusal(
        lambda: tb.send_message(world["group"]["id"], "x", reply_markup=keyboard("x" * 65))
    )[:2] == (400, "Bad Request: BUTTON_DATA_INVALID")
    assert refusal(lambda: tb.send_message(world["group"]["id"], "x", reply_to_message_id=4242))[
        :2
    ] == (400, "Bad Request: message to be replied not found")


def test_private_chats_need_a_start_and_no_block(
    tb: telebot.TeleBot, sb: Sandbox, world: dict[str, Any]
) -> None:
    bob = world["bob"]["id"]
    assert refusal(lambda: tb.send_message(bob, "hi"))[:2] == (
        403,
        "Forbidden: bot can't initiate conversation with a user",
    )
    sb.start(bob, "guard_bot")
    sent = tb.send_message(bob, "welcome")
    assert sent.chat.type == "private" and sent.chat.first_name == "Bob"
    sb.block(bob, "guard_bot")
    assert refusal(lambda: tb.send_message(bob, "hi"))[:2] == (
        403,
        "Forbidden: bot was blocked by the user",
    )


def test_sending_to_another_bot_is_forbidden(tb: telebot.TeleBot, sb: Sandbox, world: Any) -> None:
    sb.create_bot(OTHER_TOKEN, "other_bot")
    assert refusal(lambda: tb.send_message(5000002, "hi"))[:2] == (
        403,
        "Forbidden: bot can't send messages to bots",
    )


def test_send_photo_upload_then_reuse_by_file_id(tb: telebot.TeleBot, world: Any) -> None:
    group = world["group"]["id"]
    upload = io.BytesIO(b"\x89PNG fake image bytes" * 100)
    upload.name = "cat.png"
    sent = tb.send_photo(group, upload, caption="a cat #cute")
    assert len(sent.photo) == 3 and sent.caption == "a cat #cute"
    assert sent.caption_entities[0].type == "hashtag"
    again = tb.send_photo(group, sent.photo[-1].file_id)
    assert again.photo[-1].file_id == sent.photo[-1].file_id
    assert refusal(lambda: tb.send_photo(group, "nonsense"))[:2] == (
        400,
        "Bad Request: wrong file identifier/HTTP URL specified",
    )
    assert refusal(lambda: tb.send_photo(group, sent.photo[0].file_id, caption="c" * 1025))[:2] == (
        400,
        "Bad Request: message caption is too long",
    )


def test_copy_and_forward(tb: telebot.TeleBot, sb: Sandbox, world: Any) -> None:
    group, alice = world["group"]["id"], world["alice"]["id"]
    posted = sb.message(alice, group, "original words")
    copied = tb.copy_message(group, group, posted["message_id"])
    assert isinstance(copied, types.MessageID) and copied.message_id > posted["message_id"]
    forwarded = tb.forward_message(group, group, posted["message_id"])
    assert forwarded.text == "original words"
    assert forwarded.forward_origin.type == "user"
    assert forwarded.forward_origin.sender_user.id == alice
    assert refusal(lambda: tb.copy_message(group, group, 999))[:2] == (
        400,
        "Bad Request: message to copy not found",
    )
    assert refusal(lambda: tb.forward_message(group, group, 999))[:2] == (
        400,
        "Bad Request: message to forward not found",
    )


def test_edit_text_and_markup(tb: telebot.TeleBot, sb: Sandbox, world: Any) -> None:
    group = world["group"]["id"]
    sent = tb.send_message(group, "v1", reply_markup=keyboard("a"))
    edited = tb.edit_message_text("v2", group, sent.message_id, reply_markup=keyboard("b"))
    assert edited.text == "v2" and edited.edit_date
    assert refusal(
        lambda: tb.edit_message_text("v2", group, sent.message_id, reply_markup=keyboard("b"))
    )[:2] == (
        400,
        "Bad Request: message is not modified: specified new message content and reply markup "
        "are exactly the same as a current content and reply markup of the message",
    )
    remarked = tb.edit_message_reply_markup(group, sent.message_id, reply_markup=keyboard("c"))
    assert remarked.reply_markup.keyboard[0][0].callback_data == "c"
    assert refusal(lambda: tb.edit_message_text("x", group, 999))[:2] == (
        400,
        "Bad Request: message to edit not found",
    )
    theirs = sb.message(world["alice"]["id"], group, "mine")
    assert refusal(lambda: tb.edit_message_text("x", group, theirs["message_id"]))[:2] == (
        400,
        "Bad Request: message can't be edited",
    )


def test_delete_message_rules(tb: telebot.TeleBot, sb: Sandbox, world: Any) -> None:
    group, bob = world["group"]["id"], world["bob"]["id"]
    own = tb.send_message(group, "bye")
    assert tb.delete_message(group, own.message_id) is True
    assert refusal(lambda: tb.delete_message(group, own.message_id))[:2] == (
        400,
        "Bad Request: message to delete not found",
    )
    spam = sb.message(bob, group, "spam")
    sb.set_member(group, "guard_bot", "administrator", can_delete_messages=False)
    assert refusal(lambda: tb.delete_message(group, spam["message_id"]))[:2] == (
        400,
        "Bad Request: message can't be deleted",
    )
    sb.set_member(group, "guard_bot", "administrator")
    assert tb.delete_message(group, spam["message_id"]) is True
    assert [m["message_id"] for m in sb.messages(group)].count(spam["message_id"]) == 0


def test_delete_messages_skips_missing_ones(tb: telebot.TeleBot, sb: Sandbox, world: Any) -> None:
    group = world["group"]["id"]
    first = sb.message(world["bob"]["id"], group, "one")["message_id"]
    second = sb.message(world["bob"]["id"], group, "two")["message_id"]
    assert tb.delete_messages(group, [first, second, 9999]) is True
    remaining = {m["message_id"] for m in sb.messages(group)}
    assert first not in remaining and second not in remaining


def test_answer_callback_query_once(tb: telebot.TeleBot, sb: Sandbox, world: Any) -> None:
    group = world["group"]["id"]
    sent = tb.send_message(group, "press", reply_markup=keyboard("yes"))
    pressed = sb.press(world["bob"]["id"], group, sent.message_id, "yes")
    update = tb.get_updates()[-1]
    assert update.callback_query.id == pressed["callback_query_id"]
    assert update.callback_query.data == "yes"
    assert update.callback_query.message.message_id == sent.message_id
    assert tb.answer_callback_query(pressed["callback_query_id"], "done", show_alert=True) is True
    assert refusal(lambda: tb.answer_callback_query(pressed["callback_query_id"]))[:2] == (
        400,
        "Bad Request: query is too old and response timeout expired or query ID is invalid",
    )


def test_a_callback_answer_holds_at_most_200_characters(
    tb: telebot.TeleBot, sb: Sandbox, world: Any
) -> None:
    # given the Bot API's own words for answerCallbackQuery's text
    text_field = next(f for f in spec()["methods"]["answerCallbackQuery"]["fields"]
                      if f["name"] == "text")  # fmt: skip
    assert "0-200 characters" in text_field["description"]
    group = world["group"]["id"]
    sent = tb.send_message(group, "press", reply_markup=keyboard("yes"))
    first = sb.press(world["bob"]["id"], group, sent.message_id, "yes")["callback_query_id"]
    second = sb.press(world["bob"]["id"], group, sent.message_id, "yes")["callback_query_id"]

    # when one is answered with 201 characters and another with 200
    too_long = refusal(lambda: tb.answer_callback_query(first, "x" * 201, show_alert=True))

    # then the first is refused as Telegram does, and stays unanswered; the second goes through
    assert too_long[:2] == (400, "Bad Request: MESSAGE_TOO_LONG")
    assert tb.answer_callback_query(first, "x" * 200, show_alert=True) is True
    assert tb.answer_callback_query(second, "y" * 200) is True


def test_get_chat_is_chat_full_info(tb: telebot.TeleBot, sb: Sandbox, world: Any) -> None:
    chat = tb.get_chat(world["group"]["id"])
    assert isinstance(chat, types.ChatFullInfo)
    assert chat.type == "supergroup" and chat.title == "Fans"
    assert chat.permissions.can_send_messages is True
    assert refusal(lambda: tb.get_chat(-100777))[:2] == (400, "Bad Request: chat not found")


def test_get_chat_member_of_every_status(tb: telebot.TeleBot, sb: Sandbox, world: Any) -> None:
    group, alice, bob = world["group"]["id"], world["alice"]["id"], world["bob"]["id"]
    carol = sb.create_user("Carol")["id"]
    dave = sb.create_user("Dave")["id"]
    erin = sb.create_user("Erin")["id"]
    sb.set_member(group, carol, "restricted", can_send_messages=False, until_date=0)
    sb.set_member(group, dave, "kicked")
    sb.set_member(group, erin, "administrator", can_restrict_members=False)
    statuses = {
        uid: tb.get_chat_member(group, uid)
        for uid in (alice, bob, carol, dave, erin, 5000001, sb.create_user("Finn")["id"])
    }
    assert [m.status for m in statuses.values()] == [
        "creator",
        "member",
        "restricted",
        "kicked",
        "administrator",
        "administrator",
        "left",
    ]
    restricted = statuses[carol]
    assert restricted.can_send_messages is False and restricted.is_member is True
    assert statuses[erin].can_restrict_members is False
    assert refusal(lambda: tb.get_chat_member(group, 123))[:2] == (
        400,
        "Bad Request: user not found",
    )


def test_channel_members_are_hidden_from_non_admin_bots(
    tb: telebot.TeleBot, sb: Sandbox, world: Any
) -> None:
    channel = sb.create_chat(
        "channel", title="News", username="news", owner_id=world["alice"]["id"]
    )
    sb.set_member(channel["id"], world["bob"]["id"], "member")
    assert refusal(lambda: tb.get_chat_member("@news", world["bob"]["id"]))[:2] == (
        400,
        "Bad Request: member list is inaccessible",
    )
    assert refusal(lambda: tb.send_message(channel["id"], "x"))[:2] == (
        403,
        "Forbidden: bot is not a member of the channel chat",
    )
    sb.add_bot("guard_bot", channel["id"], status="administrator")
    assert tb.get_chat_member(channel["id"], world["bob"]["id"]).status == "member"
    post = tb.send_message(channel["id"], "news")
    assert post.sender_chat.id == channel["id"] and post.from_user is None


def test_member_count_and_administrators(tb: telebot.TeleBot, sb: Sandbox, world: Any) -> None:
    group = world["group"]["id"]
    assert tb.get_chat_member_count(group) == 3
    sb.create_bot(OTHER_TOKEN, "other_bot")
    sb.add_bot("other_bot", group, status="administrator")
    admins = tb.get_chat_administrators(group)
    assert [a.status for a in admins] == ["creator", "administrator"]
    assert admins[1].user.id == 5000001
    assert refusal(lambda: tb.get_chat_administrators(world["alice"]["id"]))[0] in (400, 403)


def test_restrict_then_lift_with_all_permissions(
    tb: telebot.TeleBot, sb: Sandbox, world: Any
) -> None:
    group, bob = world["group"]["id"], world["bob"]["id"]
    muted = types.ChatPermissions(can_send_messages=False)
    assert tb.restrict_chat_member(
        group, bob, permissions=muted, until_date=int(time.time()) + 3600
    )
    member = tb.get_chat_member(group, bob)
    assert member.status == "restricted" and member.can_send_messages is False
    assert member.until_date > time.time()
    everything = types.ChatPermissions(
        **{
            name: True
            for name in (
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
                "can_change_info",
                "can_invite_users",
                "can_pin_messages",
                "can_manage_topics",
            )
        }
    )
    assert tb.restrict_chat_member(group, bob, permissions=everything)
    assert tb.get_chat_member(group, bob).status == "member"


def test_restricting_an_admin_is_refused_with_telegrams_message(
    tb: telebot.TeleBot, sb: Sandbox, world: Any
) -> None:
    group = world["group"]["id"]
    admin = sb.create_user("Admin")["id"]
    sb.set_member(group, admin, "administrator")
    muted = types.ChatPermissions(can_send_messages=False)
    assert refusal(lambda: tb.restrict_chat_member(group, admin, permissions=muted))[:2] == (
        400,
        "Bad Request: user is an administrator of the chat",
    )
    assert refusal(lambda: tb.restrict_chat_member(group, world["alice"]["id"], permissions=muted))[
        :2
    ] == (400, "Bad Request: can't remove chat owner")
    assert refusal(lambda: tb.restrict_chat_member(group, 5000001, permissions=muted))[:2] == (
        400,
        "Bad Request: can't restrict self",
    )


def test_restricting_without_the_right_is_refused(
    tb: telebot.TeleBot, sb: Sandbox, world: Any
) -> None:
    group, bob = world["group"]["id"], world["bob"]["id"]
    sb.set_member(group, "guard_bot", "administrator", can_restrict_members=False)
    muted = types.ChatPermissions(can_send_messages=False)
    expected = (400, "Bad Request: not enough rights to restrict/unrestrict chat member")
    assert refusal(lambda: tb.restrict_chat_member(group, bob, permissions=muted))[:2] == expected
    assert refusal(lambda: tb.ban_chat_member(group, bob))[:2] == expected
    basic = sb.create_chat("group", title="Old", owner_id=world["alice"]["id"])
    sb.add_bot("guard_bot", basic["id"], status="administrator")
    sb.set_member(basic["id"], bob, "member")
    assert refusal(lambda: tb.restrict_chat_member(basic["id"], bob, permissions=muted))[:2] == (
        400,
        "Bad Request: method is available only for supergroups",
    )


def test_ban_and_unban(tb: telebot.TeleBot, sb: Sandbox, world: Any) -> None:
    group, bob = world["group"]["id"], world["bob"]["id"]
    assert tb.ban_chat_member(group, bob) is True
    assert tb.get_chat_member(group, bob).status == "kicked"
    assert refusal(lambda: tb.ban_chat_member(group, world["alice"]["id"]))[:2] == (
        400,
        "Bad Request: can't remove chat owner",
    )
    assert tb.unban_chat_member(group, bob, only_if_banned=True) is True
    assert tb.get_chat_member(group, bob).status == "left"
    carol = sb.create_user("Carol")["id"]
    sb.set_member(group, carol, "member")
    assert tb.unban_chat_member(group, carol, only_if_banned=True) is True
    assert tb.get_chat_member(group, carol).status == "member"
    assert tb.unban_chat_member(group, carol) is True  # without only_if_banned: removed
    assert tb.get_chat_member(group, carol).status == "left"


def test_join_requests_approve_and_decline(tb: telebot.TeleBot, sb: Sandbox, world: Any) -> None:
    chat = sb.create_chat(
        "supergroup",
        title="Gated",
        username="gated",
        join_by_request=True,
        owner_id=world["alice"]["id"],
    )["id"]
    sb.add_bot("guard_bot", chat, status="administrator")
    bob, carol = world["bob"]["id"], sb.create_user("Carol")["id"]
    assert sb.join(bob, chat)["status"] == "requested"
    sb.join(carol, chat)
    requests_seen = [u.chat_join_request for u in tb.get_updates() if u.chat_join_request]
    assert [r.from_user.id for r in requests_seen] == [bob, carol]
    assert tb.approve_chat_join_request(chat, bob) is True
    assert tb.get_chat_member(chat, bob).status == "member"
    assert tb.decline_chat_join_request(chat, carol) is True
    assert tb.get_chat_member(chat, carol).status == "left"
    assert refusal(lambda: tb.approve_chat_join_request(chat, carol))[:2] == (
        400,
        "Bad Request: HIDE_REQUESTER_MISSING",
    )
    sb.join(carol, chat)
    sb.set_member(chat, carol, "member")
    assert refusal(lambda: tb.approve_chat_join_request(chat, carol))[:2] == (
        400,
        "Bad Request: USER_ALREADY_PARTICIPANT",
    )


def test_invite_links(tb: telebot.TeleBot, sb: Sandbox, world: Any) -> None:
    group = world["group"]["id"]
    link = tb.create_chat_invite_link(group, name="promo", creates_join_request=True)
    assert link.invite_link.startswith("https://t.me/+")
    assert link.creates_join_request is True and link.is_primary is False
    assert link.creator.id == 5000001 and link.name == "promo"
    primary = tb.export_chat_invite_link(group)
    assert primary.startswith("https://t.me/+")
    assert tb.get_chat(group).invite_link == primary
    assert sb.join(sb.create_user("Gus")["id"], group, invite_link=link.invite_link)["status"] == (
        "requested"
    )
    sb.set_member(group, "guard_bot", "administrator", can_invite_users=False)
    assert refusal(lambda: tb.export_chat_invite_link(group))[:2] == (
        400,
        "Bad Request: not enough rights to manage chat invite link",
    )


def test_leave_chat_then_forbidden(tb: telebot.TeleBot, sb: Sandbox, world: Any) -> None:
    group = world["group"]["id"]
    assert tb.leave_chat(group) is True
    assert refusal(lambda: tb.send_message(group, "x"))[:2] == (
        403,
        "Forbidden: bot is not a member of the supergroup chat",
    )
    assert refusal(lambda: tb.leave_chat(world["alice"]["id"]))[0] in (400, 403)


def test_a_kicked_bot_is_forbidden_everything(tb: telebot.TeleBot, sb: Sandbox, world: Any) -> None:
    group = world["group"]["id"]
    sb.set_member(group, "guard_bot", "kicked", by=world["alice"]["id"])
    expected = (403, "Forbidden: bot was kicked from the supergroup chat")
    assert refusal(lambda: tb.send_message(group, "x"))[:2] == expected
    assert refusal(lambda: tb.get_chat(group))[:2] == expected
    assert refusal(lambda: tb.get_chat_member(group, world["bob"]["id"]))[:2] == expected


def test_a_migrated_group_points_to_its_supergroup(
    tb: telebot.TeleBot, sb: Sandbox, world: Any
) -> None:
    basic = sb.create_chat("group", title="Old", owner_id=world["alice"]["id"])["id"]
    sb.add_bot("guard_bot", basic, status="member")
    migrated = sb.migrate(basic)
    code, description, parameters = refusal(lambda: tb.send_message(basic, "x"))
    assert (code, description) == (400, "Bad Request: group chat was upgraded to a supergroup chat")
    assert parameters == {"migrate_to_chat_id": migrated["chat_id"]}
    assert tb.send_message(migrated["chat_id"], "hello again").chat.type == "supergroup"
    kinds = [
        ("migrate_to_chat_id" in u.message.json, "migrate_from_chat_id" in u.message.json)
        for u in tb.get_updates()
        if u.message and (u.message.migrate_to_chat_id or u.message.migrate_from_chat_id)
    ]
    assert kinds == [(True, False), (False, True)]


def test_set_my_commands(tb: telebot.TeleBot, sb: Sandbox, world: Any) -> None:
    commands = [
        types.BotCommand("protect", "Require a channel"),
        types.BotCommand("status", "State"),
    ]
    assert tb.set_my_commands(commands) is True
    assert [c.command for c in tb.get_my_commands()] == ["protect", "status"]
    assert refusal(lambda: tb.set_my_commands([types.BotCommand("Bad Command", "x")]))[:2] == (
        400,
        "Bad Request: BOT_COMMAND_INVALID",
    )


def test_webhook_methods(tb: telebot.TeleBot, sb: Sandbox, world: Any) -> None:
    assert tb.get_webhook_info().url == ""
    assert tb.set_webhook("http://127.0.0.1:9/hook", secret_token="s3cret", max_connections=5)
    info = tb.get_webhook_info()
    assert info.url == "http://127.0.0.1:9/hook" and info.max_connections == 5
    code, description, _ = refusal(tb.get_updates)
    assert (code, description) == (
        409,
        "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to "
        "delete the webhook first",
    )
    assert refusal(lambda: tb.set_webhook("http://x", secret_token="no spaces"))[:2] == (
        400,
        "Bad Request: secret token contains unallowed characters",
    )
    assert tb.delete_webhook() is True
    assert tb.get_updates() is not None


def test_get_updates_offsets_confirm(tb: telebot.TeleBot, sb: Sandbox, world: Any) -> None:
    group, bob = world["group"]["id"], world["bob"]["id"]
    first = tb.get_updates()
    assert [u.update_id for u in first] == sorted(u.update_id for u in first)
    last = first[-1].update_id
    produced = sb.message(bob, group, "/help")["update_ids"]
    assert [u.update_id for u in tb.get_updates(offset=last + 1)] == produced
    assert tb.get_updates(offset=produced[-1] + 1, long_polling_timeout=0) == []
    assert tb.get_webhook_info().pending_update_count == 0
