"""Telegram's error answers, word for word.

Every description the sandbox can return is a constant here so that the README list, the server
and the tests share one spelling. Where Telegram formats a value into the text, the constant is a
`str.format` template.
"""

from __future__ import annotations

from typing import Any

UNAUTHORIZED = "Unauthorized"
NOT_FOUND = "Not Found"

CHAT_NOT_FOUND = "Bad Request: chat not found"
USER_NOT_FOUND = "Bad Request: user not found"
INVALID_USER_ID = "Bad Request: invalid user_id specified"
CHAT_ID_EMPTY = "Bad Request: chat_id is empty"
MESSAGE_TEXT_EMPTY = "Bad Request: message text is empty"
MESSAGE_TOO_LONG = "Bad Request: message is too long"
CAPTION_TOO_LONG = "Bad Request: message caption is too long"
NO_PHOTO = "Bad Request: there is no photo in the request"
WRONG_FILE_ID = "Bad Request: wrong file identifier/HTTP URL specified"
CANT_PARSE_ENTITIES = "Bad Request: can't parse entities: {detail}"
CANT_PARSE_MARKUP = "Bad Request: can't parse reply keyboard markup JSON object"
BUTTON_DATA_INVALID = "Bad Request: BUTTON_DATA_INVALID"
TEXT_BUTTONS_UNALLOWED = (
    "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the inline "
    "keyboard"
)
CANT_PARSE_PERMISSIONS = "Bad Request: can't parse permissions JSON object"
MESSAGE_ID_INVALID = "Bad Request: MESSAGE_ID_INVALID"
CHAT_ADMIN_REQUIRED = "Bad Request: CHAT_ADMIN_REQUIRED"
WEBHOOK_MAX_CONNECTIONS = "Bad Request: bad webhook: max_connections must be between 1 and 100"
REPLY_NOT_FOUND = "Bad Request: message to be replied not found"
MESSAGE_ID_MISSING = "Bad Request: message identifier is not specified"

MESSAGE_TO_DELETE_NOT_FOUND = "Bad Request: message to delete not found"
MESSAGE_CANT_BE_DELETED = "Bad Request: message can't be deleted"
# Older than 48 hours (api.json, deleteMessage: "A message can only be deleted if it was sent
# less than 48 hours ago").
MESSAGE_CANT_BE_DELETED_FOR_EVERYONE = "Bad Request: message can't be deleted for everyone"
MESSAGE_TO_EDIT_NOT_FOUND = "Bad Request: message to edit not found"
MESSAGE_CANT_BE_EDITED = "Bad Request: message can't be edited"
NO_TEXT_TO_EDIT = "Bad Request: there is no text in the message to edit"
MESSAGE_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
MESSAGE_TO_COPY_NOT_FOUND = "Bad Request: message to copy not found"
MESSAGE_TO_FORWARD_NOT_FOUND = "Bad Request: message to forward not found"
MESSAGE_CANT_BE_COPIED = "Bad Request: message can't be copied"
MESSAGE_IDS_EMPTY = "Bad Request: message identifiers are not specified"

# answerCallbackQuery with a text over 200 characters (Telegram spells it so, unlike sendMessage).
CALLBACK_TEXT_TOO_LONG = "Bad Request: MESSAGE_TOO_LONG"
# Paid broadcasting (allow_paid_broadcast) with too few Stars left: MTProto's error, as the Bot
# API passes such errors on ("Bad Request: " and the MTProto name).
BALANCE_TOO_LOW = "Bad Request: BALANCE_TOO_LOW"

QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"

NOT_ENOUGH_RIGHTS_RESTRICT = "Bad Request: not enough rights to restrict/unrestrict chat member"
NOT_ENOUGH_RIGHTS_INVITE = "Bad Request: not enough rights to manage chat invite link"
NOT_ENOUGH_RIGHTS_SEND_TEXT = "Bad Request: not enough rights to send text messages to the chat"
NOT_ENOUGH_RIGHTS_SEND_PHOTO = "Bad Request: not enough rights to send photos to the chat"
NEED_ADMIN_IN_CHANNEL = "Bad Request: need administrator rights in the channel chat"
CANT_REMOVE_OWNER = "Bad Request: can't remove chat owner"
USER_IS_ADMIN = "Bad Request: user is an administrator of the chat"
CANT_RESTRICT_SELF = "Bad Request: can't restrict self"
MEMBER_LIST_INACCESSIBLE = "Bad Request: member list is inaccessible"
ONLY_SUPERGROUPS = "Bad Request: method is available only for supergroups"
SUPERGROUP_AND_CHANNEL_ONLY = (
    "Bad Request: method is available for supergroup and channel chats only"
)
NO_ADMINS_IN_PRIVATE = "Bad Request: there are no administrators in the private chat"
PRIVATE_STATUS_UNCHANGEABLE = "Bad Request: chat member status can't be changed in private chats"
USER_ALREADY_PARTICIPANT = "Bad Request: USER_ALREADY_PARTICIPANT"
HIDE_REQUESTER_MISSING = "Bad Request: HIDE_REQUESTER_MISSING"
MEMBER_LIMIT_WITH_REQUESTS = (
    "Bad Request: member limit can't be specified for links requiring administrator approval"
)
BOT_COMMAND_INVALID = "Bad Request: BOT_COMMAND_INVALID"
BOT_COMMAND_DESCRIPTION_INVALID = "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID"
GROUP_UPGRADED = "Bad Request: group chat was upgraded to a supergroup chat"
BAD_WEBHOOK_HTTPS = "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"
SECRET_TOKEN_INVALID = "Bad Request: secret token contains unallowed characters"  # noqa: S105

KICKED_FROM = "Forbidden: bot was kicked from the {kind} chat"
NOT_A_MEMBER = "Forbidden: bot is not a member of the {kind} chat"
BLOCKED_BY_USER = "Forbidden: bot was blocked by the user"
CANT_INITIATE = "Forbidden: bot can't initiate conversation with a user"
CANT_SEND_TO_BOTS = "Forbidden: bot can't send messages to bots"

CONFLICT_WEBHOOK = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
CONFLICT_OTHER_GETUPDATES = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)
TOO_MANY_REQUESTS = "Too Many Requests: retry after {retry_after}"


class ApiError(Exception):
    """A Bot API call that Telegram would refuse: becomes `{"ok": false, ...}`."""

    def __init__(
        self, error_code: int, description: str, parameters: dict[str, Any] | None = None
    ) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.parameters = parameters

    def payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.error_code,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(description: str, **parameters: Any) -> ApiError:
    return ApiError(400, description, parameters or None)


def forbidden(description: str) -> ApiError:
    return ApiError(403, description)
