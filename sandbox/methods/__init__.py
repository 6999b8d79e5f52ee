"""The Bot API methods: Telegram's rules and answers, applied to the world, one module per area
(messages, members, chats, webhooks) over what they share (base).

Each public method of `BotApi` is named after a Bot API method in lower case and takes a `Call`.
It returns the `result` of the answer or raises `ApiError`.
"""

from __future__ import annotations

from sandbox.methods.base import Call
from sandbox.methods.chats import ChatMethods
from sandbox.methods.members import MemberMethods
from sandbox.methods.messages import MessageMethods
from sandbox.methods.webhooks import WebhookMethods

__all__ = ["ALIASES", "ASYNC_METHODS", "METHOD_NAMES", "BotApi", "Call"]


class BotApi(MessageMethods, MemberMethods, ChatMethods, WebhookMethods):
    """Every method, as the server calls them."""


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
        "getMyStarBalance",
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
