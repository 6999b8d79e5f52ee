"""A second, independent client: aiogram 3 sends form and multipart bodies, not query strings."""

from __future__ import annotations

import asyncio
from typing import Any

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import (
    BufferedInputFile,
    ChatPermissions,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
)

from sandbox.client import Sandbox
from tests.sandbox.conftest import TOKEN


def test_aiogram_runs_a_scripted_conversation(sb: Sandbox, world: dict[str, Any]) -> None:
    group, bob = world["group"]["id"], world["bob"]["id"]

    async def conversation() -> None:
        session = AiohttpSession(api=TelegramAPIServer.from_base(sb.bot_api_url))
        bot = Bot(TOKEN, session=session)
        try:
            me = await bot.get_me()
            assert me.username == "guard_bot"
            markup = InlineKeyboardMarkup(
                inline_keyboard=[[InlineKeyboardButton(text="I've joined", callback_data="verify")]]
            )
            sent = await bot.send_message(group, "Join the channel first", reply_markup=markup)
            edited = await bot.edit_message_text(
                "Join the channel, then press",
                chat_id=group,
                message_id=sent.message_id,
                reply_markup=markup,
            )
            assert edited.text == "Join the channel, then press"
            pressed = sb.press(bob, group, sent.message_id, "verify")
            updates = await bot.get_updates(timeout=0)
            query = updates[-1].callback_query
            assert query is not None and query.id == pressed["callback_query_id"]
            assert await bot.answer_callback_query(query.id, text="Checking…")
            member = await bot.get_chat_member(group, bob)
            assert member.status == "member"
            assert await bot.restrict_chat_member(
                group, bob, permissions=ChatPermissions(can_send_messages=False)
            )
            restricted = await bot.get_chat_member(group, bob)
            assert restricted.status == "restricted"
            photo = await bot.send_photo(
                group,
                BufferedInputFile(b"\x89PNG" + b"\0" * 2048, filename="banner.png"),
                caption="banner",
            )
            assert photo.photo and photo.caption == "banner"
            assert await bot.delete_message(group, sent.message_id)
        finally:
            await session.close()

    asyncio.run(conversation())
    methods = [c["method"] for c in sb.calls(bot="guard_bot")]
    assert methods == [
        "getMe",
        "sendMessage",
        "editMessageText",
        "getUpdates",
        "answerCallbackQuery",
        "getChatMember",
        "restrictChatMember",
        "getChatMember",
        "sendPhoto",
        "deleteMessage",
    ]
    assert all(c["status"] == 200 for c in sb.calls(bot="guard_bot"))
    params = sb.calls(method="sendPhoto")[0]["params"]
    attached = params["photo"].removeprefix("attach://")
    assert params[attached] == {"file_name": "banner.png", "size": 2052}
