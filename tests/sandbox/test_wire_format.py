"""The Bot API wire format, byte for byte where it matters, and the call log."""

from __future__ import annotations

import json
from typing import Any

import requests

from sandbox.client import Sandbox
from sandbox.limits import Settings
from tests.sandbox.conftest import TOKEN


def url(sb: Sandbox, method: str) -> str:
    return sb.api_url(TOKEN, method)


def test_parameters_arrive_by_query_form_and_json(sb: Sandbox, world: dict[str, Any]) -> None:
    group = world["group"]["id"]
    by_get = requests.get(url(sb, "sendMessage"), params={"chat_id": group, "text": "q"}, timeout=5)
    by_form = requests.post(url(sb, "sendMessage"), data={"chat_id": group, "text": "f"}, timeout=5)
    by_json = requests.post(url(sb, "sendMessage"), json={"chat_id": group, "text": "j"}, timeout=5)
    assert [r.json()["result"]["text"] for r in (by_get, by_form, by_json)] == ["q", "f", "j"]
    assert by_get.headers["Content-Type"].startswith("application/json")


def test_method_names_are_case_insensitive(sb: Sandbox, world: dict[str, Any]) -> None:
    assert requests.get(url(sb, "GETME"), timeout=5).json()["result"]["username"] == "guard_bot"


def test_unknown_method_is_not_found(sb: Sandbox, world: dict[str, Any]) -> None:
    answer = requests.post(url(sb, "sendTelepathy"), timeout=5)
    assert answer.status_code == 404
    assert answer.json() == {"ok": False, "error_code": 404, "description": "Not Found"}


def test_unknown_token_is_401(sb: Sandbox) -> None:
    answer = requests.get(sb.api_url("1:nobody", "getMe"), timeout=5)
    assert answer.status_code == 401
    assert answer.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}


def test_set_webhook_answers_with_a_description(sb: Sandbox, world: dict[str, Any]) -> None:
    answer = requests.post(url(sb, "setWebhook"), data={"url": "https://example.org/h"}, timeout=5)
    assert answer.json() == {"ok": True, "result": True, "description": "Webhook was set"}
    again = requests.post(url(sb, "deleteWebhook"), timeout=5).json()
    assert again["description"] == "Webhook was deleted"


def test_call_log_filters_and_keeps_decoded_json_params(sb: Sandbox, world: dict[str, Any]) -> None:
    group = world["group"]["id"]
    markup = {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}
    requests.post(
        url(sb, "sendMessage"),
        params={"chat_id": str(group), "text": "x", "reply_markup": json.dumps(markup)},
        timeout=5,
    )
    requests.get(url(sb, "getMe"), timeout=5)
    requests.get(url(sb, "sendMessage"), params={"chat_id": "-1009", "text": "y"}, timeout=5)
    sent = sb.calls(method="sendMessage", chat_id=group)
    assert len(sent) == 1
    assert sent[0]["params"] == {"chat_id": str(group), "text": "x", "reply_markup": markup}
    assert sent[0]["status"] == 200 and sent[0]["bot"] == "guard_bot"
    everything = sb.calls(bot="guard_bot")
    assert [c["seq"] for c in everything] == sorted(c["seq"] for c in everything)
    later = sb.calls(since=sent[0]["seq"])
    assert [c["method"] for c in later] == ["getMe", "sendMessage"]
    assert later[-1]["response"]["description"] == "Bad Request: chat not found"


def test_faults_answer_the_injected_error_a_given_number_of_times(
    sb: Sandbox, world: dict[str, Any]
) -> None:
    sb.fault("getMe", 502, "Bad Gateway", times=1)
    first = requests.get(url(sb, "getMe"), timeout=5)
    second = requests.get(url(sb, "getMe"), timeout=5)
    assert (first.status_code, first.json()["description"]) == (502, "Bad Gateway")
    assert second.status_code == 200
    sb.fault("sendMessage", 429, retry_after=7)
    limited = requests.get(url(sb, "sendMessage"), timeout=5)
    assert limited.headers["Retry-After"] == "7"
    assert limited.json()["description"] == "Too Many Requests: retry after 7"
    sb.clear_faults()
    assert requests.get(url(sb, "getMe"), timeout=5).status_code == 200


def test_limits_are_on_by_default() -> None:
    settings = Settings()
    assert settings.enabled is True
    assert (settings.global_per_second, settings.group_per_minute, settings.private_per_second) == (
        30.0,
        20.0,
        1.0,
    )


def test_automatic_user_ids_skip_a_bot_whose_token_took_the_next_one(sb: Sandbox) -> None:
    # a bot's id comes from its token; the first automatic user id must not collide with it
    first = sb.create_user("Probe")["id"]
    sb.create_bot(f"{first + 1}:token-on-the-sequence", "on_sequence_bot")
    after = sb.create_user("Ana")["id"]
    assert after not in (first, first + 1)
    assert (
        requests.get(sb.api_url(f"{first + 1}:token-on-the-sequence", "getMe"), timeout=5).json()[
            "result"
        ]["id"]
        == first + 1
    )


def test_update_user_and_chat_ids_never_repeat_after_a_reset(sb: Sandbox) -> None:
    def new_ids() -> tuple[int, int, int]:
        sb.create_bot(TOKEN, "guard_bot")
        user = sb.create_user("Ana")["id"]
        group = sb.create_chat("supergroup", title="G", owner_id=user)["id"]
        return int(sb.start(user, "guard_bot")["update_ids"][0]), user, group

    update, user, group = new_ids()
    sb.reset()
    update_after, user_after, group_after = new_ids()
    assert update_after > update and user_after > user and group_after < group
