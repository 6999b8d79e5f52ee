"""A chat's line (apps/ingress/ordering.py): the update that leaves its head wakes the next one,
which blocks on its own wake-up key rather than polling the line."""

from __future__ import annotations

import threading

from apps.ingress import ordering
from apps.ingress.ordering import Turn
from gmbot.redis import get_redis

LINE = ordering.line_key(1, -100500)


def leave(update_id: int) -> None:
    pipe = get_redis().pipeline(transaction=False)
    Turn(LINE, update_id).leave(pipe)
    pipe.execute()


def place_of(update_id: int) -> int | None:
    pipe = get_redis().pipeline(transaction=False)
    Turn(LINE, update_id).ask_place(pipe)
    return pipe.execute()[0]


def test_the_head_leaving_wakes_the_next_and_no_other(redis_client):
    redis_client.rpush(LINE, "11", "12", "13")

    leave(13)  # not the head: the head is the same, nobody is woken
    assert redis_client.keys(f"{LINE}:*") == []

    leave(11)  # the head: the next one is woken
    assert redis_client.lrange(LINE, 0, -1) == [b"12"]
    assert redis_client.lrange(f"{LINE}:12", 0, -1) == [b"1"]
    assert 0 < redis_client.ttl(f"{LINE}:12") <= ordering.WAKE_TTL_SECONDS

    leave(12)  # the last one: its own wake-up goes with it, and the line is gone
    assert redis_client.keys(f"{LINE}*") == []


def test_an_update_behind_another_runs_when_it_leaves(redis_client, monkeypatch):
    # given an update second in its chat's line, waiting, with no check of the line for long
    monkeypatch.setattr(ordering, "WAKE_POLL_SECONDS", 0.9)
    monkeypatch.setattr(ordering, "WAIT_SECONDS", 60.0)
    redis_client.rpush(LINE, "21", "22")
    place = place_of(22)
    checks: list[int] = []  # the waiting thread's looks at the line
    client = get_redis()
    original = client.pipeline

    def counted_pipeline(*args, **kwargs):
        if threading.current_thread() is thread:
            checks.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(client, "pipeline", counted_pipeline)
    done = threading.Event()

    def wait() -> None:
        try:
            Turn(LINE, 22).wait(place)
        finally:
            done.set()

    thread = threading.Thread(target=wait)
    thread.start()
    try:
        assert not done.wait(0.3)  # it waits while the head runs
        # when the head leaves
        leave(21)
        # then the second one goes on, woken, without having looked at the line again
        assert done.wait(5)
        assert checks == []
        assert redis_client.lrange(LINE, 0, -1) == [b"22"]
    finally:
        thread.join(5)


def _member_update(chat_type: str, by: int = 42) -> dict:
    chat = {"id": -100700, "type": chat_type, "title": "News"}
    user = {"id": 42, "is_bot": False, "first_name": "Sue"}
    actor = user if by == 42 else {"id": by, "is_bot": True, "first_name": "Bot"}
    return {
        "update_id": 5,
        "chat_member": {
            "chat": chat,
            "from": actor,
            "date": 1,
            "old_chat_member": {"user": user, "status": "member"},
            "new_chat_member": {"user": user, "status": "left"},
        },
    }


BOT = 7000


def test_a_channels_member_updates_have_a_line_per_member_and_a_groups_one_line():
    # a channel: the member's own line, so other members' leaves do not wait behind theirs
    assert ordering.line_for(1, BOT, _member_update("channel")) == "gmbot:line:1:-100700:member:42"
    # a group: the chat's line, shared with its messages (a join, then a message, in order)
    assert ordering.line_for(1, BOT, _member_update("supergroup")) == "gmbot:line:1:-100700"
    request = {"update_id": 6, "chat_join_request": {"chat": {"id": -100700, "type": "channel"},
                                                       "from": {"id": 42}, "date": 1}}  # fmt: skip
    assert ordering.line_for(1, BOT, request) == "gmbot:line:1:-100700"
    # a wake-up key of a chat's line (<line>:<update id>) never names a member's line
    assert (
        ordering.line_for(1, BOT, _member_update("channel"))
        != f"{ordering.line_key(1, -100700)}:42"
    )


def test_the_bots_own_member_changes_in_a_group_take_the_members_line():
    # the bot's own restriction reported back: the member's line, not the group's
    own = _member_update("supergroup", by=BOT)
    assert ordering.line_for(1, BOT, own) == "gmbot:line:1:-100700:member:42"
    # another admin bot's doing (a join it approved may need enforcing): the group's line
    assert (
        ordering.line_for(1, BOT, _member_update("supergroup", by=7001)) == "gmbot:line:1:-100700"
    )
    # the bot unknown (a job whose bot is gone): the group's line
    assert ordering.line_for(1, None, own) == "gmbot:line:1:-100700"
