"""Growth end to end: the sandbox delivers to gunicorn, real workers on `high` (decisions),
`normal` (the paced executor) and `low` (member counts) do the rest.

Real gunicorn, real Celery workers, real Redis and PostgreSQL, the sandbox over HTTP."""

from __future__ import annotations

from collections import Counter

import pytest

from apps.growth import texts
from apps.growth.models import GrowthProfile, JoinRequest, MemberCount, PhaseTransition
from apps.ingress import services
from tests.conftest import wait_until
from tests.growth.conftest import make_growing

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

RATE = 5


def test_a_burst_is_approved_at_pace_then_monitoring_lets_only_subscribers_in(
    sandbox, make_bot, start_web, start_worker, settings
):
    # given a growing group whose webhook points at the web process, and the three workers
    growing = make_growing(sandbox, make_bot, member_target=1000)
    web = start_web()
    services.set_webhook(growing.bot, web.url, max_connections=8)
    start_worker(["high"], concurrency=4, pool="threads")
    start_worker(["normal"], concurrency=2, GROWTH_JOIN_RATE=str(RATE))
    low = start_worker(["low"], concurrency=1)
    del low

    # when twelve people ask to join at once
    burst = [growing.user(f"Fan {n}") for n in range(12)]
    for user in burst:
        growing.request(user)

    # then every one is let in, once, and the approvals left at the group's pace
    wait_until(lambda: all(growing.status(u) == "member" for u in burst), 40)
    calls = growing.calls("approveChatJoinRequest")
    assert Counter(int(c["params"]["user_id"]) for c in calls) == {u: 1 for u in burst}
    times = sorted(c["time"] for c in calls)
    # slots 1/RATE apart; the first call may come up to its jitter after its slot
    assert times[-1] - times[0] >= (len(burst) - 2) / RATE
    assert {r.status for r in JoinRequest.objects.filter(group=growing.group)} == {"approved"}

    # when an admin moves the group to monitoring with /growth
    growing.sandbox.message(growing.owner, growing.chat, "/growth phase monitoring")
    done = texts.PHASE_SET.format(from_phase="growth", to_phase="monitoring")
    wait_until(lambda: any(c["params"]["text"] == done
                           for c in growing.calls("sendMessage", growing.chat)))  # fmt: skip
    assert PhaseTransition.objects.get().by == str(growing.owner)

    # and a subscriber and a non-subscriber ask to join
    sub, nonsub = growing.user("Sub", subscribed=True), growing.user("Nonsub")
    growing.request(sub)
    growing.request(nonsub)

    # then the subscriber is approved and the other held for an admin
    wait_until(lambda: growing.status(sub) == "member", 20)
    wait_until(lambda: JoinRequest.objects.filter(user_id=nonsub, status="held").exists())
    assert growing.status(nonsub) == "left"

    # and a member-count job on `low` writes the history
    from gmbot.celery import app

    app.send_task("tasks.low.refresh_member_count", args=[growing.group.pk])
    count = wait_until(lambda: MemberCount.objects.filter(group=growing.group).first(), 20)
    assert count.count == 2 + len(burst) + 1  # the owner, the bot, the burst and Sub
    assert GrowthProfile.objects.get(pk=growing.profile.pk).phase == "monitoring"
    assert sandbox.webhook(growing.bot.username)["failures"] == []


def test_target_by_count_then_the_private_gate_and_bulk_admin_approval_through_the_workers(
    sandbox, make_bot, start_web, start_worker, admin_client
):
    # given a growing group with a target of 3 members (the owner and the bot are 2) that
    # messages non-subscribers once monitored, its webhook, and the three workers
    growing = make_growing(sandbox, make_bot, member_target=3, monitoring_policy="message")
    web = start_web()
    services.set_webhook(growing.bot, web.url, max_connections=8)
    start_worker(["high"], concurrency=4, pool="threads")
    start_worker(["normal"], concurrency=2, GROWTH_JOIN_RATE="20")
    start_worker(["low"], concurrency=1)
    from gmbot.celery import app

    # when one fan is approved and the count job on `low` runs: the target is reached
    fan = growing.user("Fan")
    growing.request(fan)
    wait_until(lambda: growing.status(fan) == "member", 20)
    app.send_task("tasks.low.refresh_member_count", args=[growing.group.pk])
    transition = wait_until(lambda: PhaseTransition.objects.first(), 20)
    assert (transition.to_phase, transition.by) == ("monitoring", "rule")
    assert "3 of 3" in transition.reason

    # and Nick, not subscribed, asks to join: he gets the gate in a private chat
    nick = growing.user("Nick")
    growing.request(nick)
    gate = wait_until(lambda: growing.calls("sendMessage", nick), 20)[0]
    message_id = gate["response"]["result"]["message_id"]

    # and presses "I've joined" before joining, then after: let in
    growing.sandbox.press(nick, nick, message_id, bot=growing.bot.username)
    alert = wait_until(lambda: growing.calls("answerCallbackQuery"), 20)[0]
    assert "@growing_news" in alert["params"]["text"]
    growing.sandbox.set_member(growing.channel.chat_id, nick, "member")
    growing.sandbox.press(nick, nick, message_id, bot=growing.bot.username)
    wait_until(lambda: growing.status(nick) == "member", 20)

    # and two more non-subscribers wait; staff approve both from the admin's list
    late = [growing.user("Late 1"), growing.user("Late 2")]
    for user in late:
        growing.request(user)
    wait_until(lambda: JoinRequest.objects.filter(user_id__in=late, status="messaged").count()
               == 2, 20)  # fmt: skip
    ids = list(JoinRequest.objects.filter(user_id__in=late).values_list("pk", flat=True))
    answer = admin_client.post("/admin/growth/joinrequest/",
                               {"action": "approve", "_selected_action": ids})  # fmt: skip
    assert answer.status_code == 302

    # then the workers approve them from the queue, each once
    wait_until(lambda: all(growing.status(u) == "member" for u in late), 20)
    approvals = Counter(
        int(c["params"]["user_id"]) for c in growing.calls("approveChatJoinRequest")
    )
    assert approvals == {fan: 1, nick: 1, late[0]: 1, late[1]: 1}
    assert set(JoinRequest.objects.filter(user_id__in=late).values_list("decided_by", flat=True)) \
        == {"admin"}  # fmt: skip
