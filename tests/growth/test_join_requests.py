"""Join requests (SPEC M2) in this process: the update through the worker's entry point, the
queue worked by the executor's service, the sandbox over HTTP, real PostgreSQL and Redis."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.admin.sites import site
from django.test import RequestFactory
from django.utils import timezone

from apps.growth import texts
from apps.growth.models import GrowthProfile, JoinRequest
from apps.growth.services import executing, requests
from tests.growth.conftest import Growing

pytestmark = pytest.mark.django_db(transaction=True)

Status = JoinRequest.Status


def test_a_request_delivered_twice_is_stored_once_and_approved_once(growing: Growing):
    # given a growing group and a user asking to join
    carol = growing.user("Carol")
    growing.request(carol)
    (update,) = growing.sandbox.updates(bot=growing.bot.username, since=growing.seen)

    # when Telegram delivers the update twice (a redelivery) and the queue is worked
    growing.deliver()
    from apps.ingress import dispatch

    dispatch.process_update(growing.bot.pk, update["update"])
    growing.execute()

    # then one row, approved, and one call to Telegram
    assert JoinRequest.objects.filter(group=growing.group, user_id=carol).count() == 1
    assert growing.row(carol).status == Status.APPROVED
    assert growing.row(carol).phase_at_arrival == "growth"
    assert len(growing.calls("approveChatJoinRequest")) == 1
    assert growing.status(carol) == "member"


def test_nothing_is_called_while_the_request_waits_in_the_queue(growing: Growing):
    carol = growing.user("Carol")
    growing.request(carol)
    growing.deliver()
    # decided, not executed: the handler made no approval call of its own
    assert growing.row(carol).status == Status.APPROVING
    assert growing.calls("approveChatJoinRequest") == []
    assert growing.execute() == 1


def test_monitoring_approves_a_subscriber_and_holds_a_non_subscriber(growing: Growing):
    growing.set_phase("monitoring")
    sub, nonsub = growing.user("Sub", subscribed=True), growing.user("Nonsub")
    growing.request(sub)
    growing.request(nonsub)
    growing.deliver()
    growing.execute()
    assert growing.row(sub).status == Status.APPROVED
    held = growing.row(nonsub)
    assert (held.status, held.reason) == (Status.HELD, "not_subscribed")
    assert growing.status(sub) == "member" and growing.status(nonsub) == "left"
    approved = {int(c["params"]["user_id"]) for c in growing.calls("approveChatJoinRequest")}
    assert approved == {sub}


def test_paused_holds_everything(growing: Growing):
    growing.set_phase("paused")
    sub = growing.user("Sub", subscribed=True)
    growing.request(sub)
    growing.deliver()
    assert growing.execute() == 0
    assert (growing.row(sub).status, growing.row(sub).reason) == (Status.HELD, "paused")


def test_the_private_message_gate_approves_after_ive_joined(growing: Growing):
    # given a monitored group that messages non-subscribers
    GrowthProfile.objects.filter(pk=growing.profile.pk).update(
        phase="monitoring", monitoring_policy="message"
    )
    nick = growing.user("Nick")
    growing.request(nick)
    growing.deliver()

    # then Nick got a private message with the channel's Join button and "I've joined"
    (gate,) = growing.calls("sendMessage", nick)
    markup = gate["params"]["reply_markup"]
    buttons = [button for row in markup["inline_keyboard"] for button in row]
    assert buttons[0]["url"] == "https://t.me/growing_news"
    assert buttons[-1]["text"] == texts.JOINED_BUTTON
    assert growing.row(nick).status == Status.MESSAGED
    message_id = gate["response"]["result"]["message_id"]

    # when he presses "I've joined" before joining: told what is missing, still waiting
    growing.sandbox.press(nick, nick, message_id, bot=growing.bot.username)
    growing.deliver()
    assert growing.row(nick).status == Status.MESSAGED
    (alert,) = growing.calls("answerCallbackQuery")
    assert "@growing_news" in alert["params"]["text"]

    # and after joining the channel he presses again: approved through the queue
    growing.sandbox.set_member(growing.channel.chat_id, nick, "member")
    growing.skip_pending()
    growing.sandbox.press(nick, nick, message_id, bot=growing.bot.username)
    growing.deliver()
    assert growing.row(nick).status == Status.APPROVING
    assert growing.row(nick).decided_by == str(nick)
    growing.execute()
    assert growing.row(nick).status == Status.APPROVED
    assert growing.status(nick) == "member"


def test_someone_else_cannot_press_the_requesters_button(growing: Growing):
    GrowthProfile.objects.filter(pk=growing.profile.pk).update(
        phase="monitoring", monitoring_policy="message"
    )
    nick = growing.user("Nick")
    growing.request(nick)
    growing.deliver()
    row = growing.row(nick)
    query: Any = type("Q", (), {"data": f"gj:{row.pk}", "id": "1",
                                "from_user": type("U", (), {"id": 42})()})()  # fmt: skip
    from apps.bots.context import context_for

    bot = context_for(growing.bot.pk)
    assert bot is not None
    requests.do_joined_pressed(bot, query)
    assert growing.row(nick).status == Status.MESSAGED


def test_bulk_admin_approval_goes_through_the_paced_queue(growing: Growing, admin_user, settings):
    # given five requests held in a paused group
    growing.set_phase("paused")
    users = [growing.user(f"U{n}") for n in range(5)]
    for user in users:
        growing.request(user)
    growing.deliver()
    settings.GROWTH_JOIN_RATE = 10.0

    # when an admin approves them all from the admin's list
    request = RequestFactory().post("/admin/growth/joinrequest/")
    request.user = admin_user
    request._messages = type("M", (), {"add": lambda *a, **k: None})()  # type: ignore[attr-defined]
    model_admin = site.get_model_admin(JoinRequest)
    model_admin.approve(request, JoinRequest.objects.filter(group=growing.group))  # type: ignore[attr-defined]

    # then nothing is called at once: they wait in the queue, decided by the admin
    assert growing.calls("approveChatJoinRequest") == []
    rows = JoinRequest.objects.filter(group=growing.group)
    assert {r.status for r in rows} == {Status.APPROVING}
    assert {r.decided_by for r in rows} == {admin_user.get_username()}

    # and the executor approves them at the group's pace (10/s: 4 intervals, less the first
    # call's jitter)
    growing.execute()
    calls = growing.calls("approveChatJoinRequest")
    assert sorted(int(c["params"]["user_id"]) for c in calls) == sorted(users)
    assert calls[-1]["time"] - calls[0]["time"] >= 0.3
    assert {r.status for r in rows.all()} == {Status.APPROVED}


def test_requests_leave_no_faster_than_the_configured_rate(growing: Growing, settings):
    # given 12 requests decided at once and a pace of 8 a second with jitter
    settings.GROWTH_JOIN_RATE = 8.0
    settings.GROWTH_JOIN_JITTER = 0.5
    users = [growing.user(f"U{n}") for n in range(12)]
    for user in users:
        growing.request(user)
    growing.deliver()

    # when the queue is worked by two jobs side by side (slots are shared through Redis)
    import threading

    from django.db import connection

    def work() -> None:
        try:
            executing.do_execute_batch(growing.group.pk)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    growing.execute()

    # then every request was approved once, and no second held more than the rate and two
    # (a late call is caught up on by one interval at most)
    times = sorted(c["time"] for c in growing.calls("approveChatJoinRequest"))
    assert len(times) == 12
    approved = Counter(int(c["params"]["user_id"]) for c in growing.calls("approveChatJoinRequest"))
    assert set(approved.values()) == {1}
    for index, start in enumerate(times):
        in_a_second = [t for t in times[index:] if t < start + 1.0]
        assert len(in_a_second) <= 8 + 2
    # and the whole took at least 10 intervals: no faster than the rate
    assert times[-1] - times[0] >= 10 / 8 - 0.02


def test_already_participant_and_missing_request_count_as_done(growing: Growing):
    inside, gone = growing.user("Inside"), growing.user("Gone")
    growing.set_phase("paused")
    growing.request(inside)
    growing.request(gone)
    growing.deliver()
    # Inside got in another way; Gone's request was declined by a human admin in Telegram
    growing.sandbox.set_member(growing.chat, inside, "member")
    from apps.bots.context import context_for

    bot = context_for(growing.bot.pk)
    assert bot is not None
    bot.telebot.decline_chat_join_request(growing.chat, gone)
    growing.skip_pending()
    requests.do_decide(JoinRequest.objects.filter(group=growing.group), Status.APPROVING, by="t")
    growing.execute()
    assert (growing.row(inside).status, growing.row(inside).reason) == (
        Status.APPROVED, "already_participant")  # fmt: skip
    assert (growing.row(gone).status, growing.row(gone).reason) == (
        Status.EXPIRED, "join_request_missing")  # fmt: skip


def test_a_429_gives_the_row_back_and_the_next_job_finishes_it(growing: Growing):
    carol = growing.user("Carol")
    growing.request(carol)
    growing.deliver()
    growing.sandbox.fault("approveChatJoinRequest", error_code=429, retry_after=1, times=1)
    batch = executing.do_execute_batch(growing.group.pk)
    assert batch.countdown == 1.0 and batch.executed == 0
    row = growing.row(carol)
    assert (row.status, row.claim, row.attempts) == (Status.APPROVING, "", 0)
    growing.execute()
    assert growing.row(carol).status == Status.APPROVED


def test_the_redrive_gives_back_a_dead_jobs_claim_and_expires_stale_requests(growing: Growing):
    # given a request claimed by a job that died long ago, and one held for weeks
    carol, dave = growing.user("Carol"), growing.user("Dave")
    growing.request(carol)
    growing.deliver()
    growing.set_phase("paused")
    growing.request(dave)
    growing.deliver()
    long_ago = timezone.now() - timedelta(hours=1)
    JoinRequest.objects.filter(user_id=carol).update(claim="dead", claimed_at=long_ago)
    JoinRequest.objects.filter(user_id=dave).update(created_at=long_ago - timedelta(days=30))

    # when the re-drive runs
    report = executing.do_redrive()

    # then Carol's claim is free again and she is approved once; Dave's request expired
    assert (report.released, report.expired) == (1, 1)
    growing.execute()
    assert growing.row(carol).status == Status.APPROVED
    assert len(growing.calls("approveChatJoinRequest")) == 1
    assert (growing.row(dave).status, growing.row(dave).reason) == (Status.EXPIRED, "stale")


def test_a_finished_request_asked_again_later_is_decided_afresh_in_the_same_row(
    growing: Growing,
):
    carol = growing.user("Carol")
    growing.request(carol)
    growing.deliver()
    growing.execute()
    first = growing.row(carol)
    # she was removed (the kicker bans then unbans) and asks again a minute later
    growing.sandbox.set_member(growing.chat, carol, "left")
    growing.sandbox.advance_clock(60)
    growing.skip_pending()
    growing.request(carol)
    growing.deliver()
    again = growing.row(carol)
    assert again.pk == first.pk and again.status == Status.APPROVING
    growing.execute()
    assert growing.status(carol) == "member"


def test_a_group_without_a_growth_profile_is_left_alone(growing: Growing):
    GrowthProfile.objects.filter(pk=growing.profile.pk).delete()
    carol = growing.user("Carol")
    growing.request(carol)
    growing.deliver()
    assert not JoinRequest.objects.exists()
    assert growing.sandbox.join_requests(growing.chat)  # still pending in Telegram
