"""Member activity and the kicker end to end: the sandbox delivers to gunicorn, a real worker on
`high` runs the observer, a real worker on `low` flushes and kicks, all against the sandbox.

Real gunicorn, real Celery workers, real Redis and PostgreSQL, the sandbox over HTTP.
"""

from __future__ import annotations

import pytest

from apps.members.models import KickRun, MemberActivity
from apps.members.services import buffer
from tasks import low
from tests.conftest import wait_until
from tests.members.conftest import make_managed

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def joined(managed, user_id: int) -> str:
    return buffer.sample_field(managed.bot.pk, managed.chat_id, user_id, "j")


def messages(redis_client) -> list[bytes]:
    """The messages buffered (the joins the bot also sees are buffered beside them)."""
    return [f for f in redis_client.hkeys(buffer.BUFFER_KEY) if b":m" in f]


def test_messages_through_the_webhook_are_flushed_once_per_member_by_a_low_worker(
    sandbox, make_bot, start_web, start_worker, redis_client
):
    # given a growing group whose bot's webhook points at the web process, and workers
    web = start_web()
    managed = make_managed(sandbox, make_bot, webhook=web.url)
    start_worker(["high"], concurrency=2)
    start_worker(["low"])
    ann, ben = managed.member("Ann"), managed.member("Ben")

    # when Ann writes six messages and Ben three, and the worker ran every update
    for n in range(6):
        sandbox.message(ann, managed.chat_id, f"a{n}")
    for n in range(3):
        sandbox.message(ben, managed.chat_id, f"b{n}")
    wait_until(lambda: len(messages(redis_client)) == 9)
    # and the flush runs on low (beat sends it every few seconds)
    low.flush_member_activity.delay()

    # then each member has one row with their count, written by one flush
    wait_until(lambda: MemberActivity.objects.count() == 2)
    counts = dict(MemberActivity.objects.values_list("user_id", "message_count"))
    assert counts == {ann: 6, ben: 3}
    assert not redis_client.exists(buffer.BUFFER_KEY)
    assert sandbox.webhook(managed.bot.username)["failures"] == []


def test_the_kicker_on_a_low_worker_removes_the_silent_and_a_removed_member_can_rejoin(
    sandbox, make_bot, start_web, start_worker, redis_client
):
    # given a group with a 30-day rule, two members silent for 40 days, an admin as silent,
    # and one who just wrote
    web = start_web()
    managed = make_managed(sandbox, make_bot, webhook=web.url, kick_after_days=30,
                           kick_dry_run=False)  # fmt: skip
    start_worker(["high"], concurrency=2)
    start_worker(["low"], TELEGRAM_BULK_LIMIT="5")
    sam, sue, ada = (managed.member(name) for name in ("Sam", "Sue", "Ada"))
    adm = managed.member("Adm", status="administrator")
    sandbox.message(ada, managed.chat_id, "still here")
    wait_until(lambda: len(messages(redis_client)) == 1)
    low.flush_member_activity.delay()
    wait_until(lambda: MemberActivity.objects.filter(user_id=ada, message_count=1).exists())
    for user_id in (sam, sue, adm):
        managed.silent_since(user_id, days=40)

    # when beat starts the hour's kick runs
    low.start_kick_runs.delay()

    # then the run removes exactly the two silent non-admins, through ban and unban
    run = wait_until(lambda: KickRun.objects.filter(status=KickRun.Status.DONE).first(), 30)
    bans = sandbox.calls(bot=managed.bot.username, method="banChatMember")
    assert sorted(int(call["params"]["user_id"]) for call in bans) == sorted([sam, sue])
    assert run.removed == 2 and run.skipped == {"admin": 1}
    assert managed.status(sam) == "left" and managed.status(adm) == "administrator"
    assert managed.status(ada) == "member"
    assert sandbox.webhook(managed.bot.username)["failures"] == []

    # and Sam can come back by himself; the bot sees him again
    assert sandbox.join(sam, managed.chat_id)["status"] == "member"
    assert managed.status(sam) == "member"
    wait_until(lambda: redis_client.hexists(buffer.BUFFER_KEY, joined(managed, sam)))
    low.flush_member_activity.delay()
    wait_until(lambda: MemberActivity.objects.get(user_id=sam).left_at is None)
