"""The kicker (SPEC M4): who a run removes, who it never touches, dry runs, chunks, the record.

Runs are started and worked through in this process against the sandbox over HTTP (real Redis
budgets and PostgreSQL); tests/members/test_end_to_end.py runs them on a real `low` worker.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from apps.bots.models import Owner
from apps.growth.models import GrowthProfile
from apps.members import services
from apps.members.models import KickExemption, KickRun, MemberActivity
from apps.members.services import kicker
from tests.members.conftest import Managed

pytestmark = pytest.mark.django_db


def run_to_the_end(run_id: int) -> KickRun:
    """Every chunk of the run, one after another, as the re-queued jobs would."""
    for _ in range(100):
        if kicker.do_kick_chunk(run_id) is None:
            break
    return KickRun.objects.get(pk=run_id)


def the_run(managed: Managed) -> KickRun:
    [run_id] = kicker.do_start_runs()
    return run_to_the_end(run_id)


def banned(managed: Managed) -> list[int]:
    return [int(call["params"]["user_id"]) for call in managed.calls("banChatMember")]


def set_rule(managed: Managed, days: int | None, dry_run: bool) -> None:
    GrowthProfile.objects.filter(group=managed.group).update(
        kick_after_days=days, kick_dry_run=dry_run
    )


@pytest.fixture
def crowd(managed: Managed) -> dict[str, int]:
    """Who is in the group: two silent members, an active one, a recent joiner, an admin and
    the creator (both silent), an exempt silent member, a silent bot, and one who left."""
    sb, chat = managed.sandbox, managed.chat_id
    people = {name: managed.member(name) for name in ("Sam", "Sue", "Ada", "Neo", "Ex", "Gone")}
    people["Adm"] = managed.member("Adm", status="administrator")
    people["owner"] = managed.owner
    other_bot = sb.create_bot(token="7999000001:other-bot", username="other_helper_bot")
    sb.add_bot("other_helper_bot", chat, status="member")
    managed.skip_pending()
    people["bot"] = int(other_bot["id"])
    for name in ("Sam", "Sue", "Adm", "owner", "Ex", "Gone"):
        managed.silent_since(people[name], days=40)
    managed.silent_since(people["bot"], days=40, is_bot=True)
    managed.silent_since(people["Ada"], days=40)
    managed.silent_since(people["Neo"], days=2)  # joined two days ago, never wrote
    MemberActivity.objects.filter(user_id=people["Ada"]).update(
        last_message_at=timezone.now() - timedelta(days=1),
        active_at=timezone.now() - timedelta(days=1),
    )
    MemberActivity.objects.filter(user_id=people["Gone"]).update(left_at=timezone.now())
    KickExemption.objects.create(group=managed.group, user_id=people["Ex"], note="a VIP")
    return people


def test_a_run_removes_exactly_the_inactive_members_who_are_not_admins(managed, crowd):
    # given a rule of 30 days
    set_rule(managed, 30, dry_run=False)

    # when the hourly run goes through the group
    run = the_run(managed)

    # then the two silent members were banned and unbanned (only_if_banned), nobody else
    assert sorted(banned(managed)) == sorted([crowd["Sam"], crowd["Sue"]])
    unbans = managed.calls("unbanChatMember")
    assert sorted(int(c["params"]["user_id"]) for c in unbans) == sorted(banned(managed))
    assert all(c["params"]["only_if_banned"] in (True, "true", "True") for c in unbans)
    assert managed.status(crowd["Sam"]) == "left" and managed.status(crowd["Sue"]) == "left"
    for name in ("Ada", "Neo", "Adm", "Ex"):
        assert managed.status(crowd[name]) in ("member", "administrator")
    assert managed.status(crowd["owner"]) == "creator"
    # and the run says what it did and why it left the others
    assert run.status == KickRun.Status.DONE
    assert run.candidates == 6  # Sam, Sue, the admin, the owner, the exempt one and the bot
    assert run.removed == 2 and sorted(run.listed) == sorted([crowd["Sam"], crowd["Sue"]])
    assert run.skipped == {"admin": 1, "owner": 1, "exempt": 1, "other bot": 1}
    assert run.error_count == 0 and run.duration_seconds is not None
    assert run.calls == 1 + 2 * 2  # getChatAdministrators once, then ban and unban each
    # and the removed are no longer present, so the next run does not pick them again
    assert MemberActivity.objects.filter(left_at__isnull=False).count() == 3


def test_the_group_owner_in_gmbot_is_never_removed_even_when_telegram_lists_them_as_member(
    managed, crowd
):
    # given the group's owner in GMBot is a plain member in Telegram, silent for 40 days
    set_rule(managed, 30, dry_run=False)
    managed.group.owner = Owner.objects.create(telegram_id=crowd["Sam"])
    managed.group.save()

    # when the run goes through
    run = the_run(managed)

    # then Sam stays
    assert crowd["Sam"] not in banned(managed)
    assert run.skipped["owner"] == 2


def test_a_dry_run_lists_who_would_go_and_removes_nobody(managed, crowd):
    # given the rule in dry-run mode
    set_rule(managed, 30, dry_run=True)

    # when the run goes through
    run = the_run(managed)

    # then nobody was banned, and the run lists the two silent members
    assert managed.calls("banChatMember") == [] and managed.calls("unbanChatMember") == []
    assert sorted(run.listed) == sorted([crowd["Sam"], crowd["Sue"]])
    assert run.removed == 0 and run.dry_run
    assert MemberActivity.objects.filter(left_at__isnull=False).count() == 1  # only Gone


def test_a_large_group_is_worked_through_in_chunks(managed, monkeypatch):
    # given 25 silent members and chunks of 4
    monkeypatch.setattr(kicker, "CHUNK", 4)
    set_rule(managed, 30, dry_run=False)
    silent = [managed.member(f"S{n}") for n in range(25)]
    for user_id in silent:
        managed.silent_since(user_id, days=31)

    # when the run starts, each chunk returns to be queued again until the group is done
    [run_id] = kicker.do_start_runs()
    countdowns = []
    while (countdown := kicker.do_kick_chunk(run_id)) is not None:
        countdowns.append(countdown)

    # then every one of them was removed once, over seven chunks
    run = KickRun.objects.get(pk=run_id)
    assert sorted(banned(managed)) == sorted(silent)
    assert run.removed == 25 and run.chunks == 7 and len(countdowns) == 6
    assert run.status == KickRun.Status.DONE


def test_a_run_starts_once_per_hour_and_a_second_chunk_job_does_nothing_while_one_works(
    managed, crowd
):
    # given a rule
    set_rule(managed, 30, dry_run=True)

    # when beat starts the hour's runs twice
    first = kicker.do_start_runs()
    second = kicker.do_start_runs()

    # then there is one run
    assert len(first) == 1 and second == []
    # and while a chunk holds the run, a second job for it does nothing
    KickRun.objects.filter(pk=first[0]).update(lease_until=timezone.now() + timedelta(seconds=60))
    assert kicker.do_kick_chunk(first[0]) is None
    assert KickRun.objects.get(pk=first[0]).chunks == 0


def test_groups_without_a_rule_are_not_run(managed, crowd):
    # given no kick rule
    set_rule(managed, None, dry_run=False)

    # when beat starts the hour's runs
    # then none starts
    assert kicker.do_start_runs() == []


def test_a_bot_without_the_right_to_ban_ends_the_run_with_an_error(managed, crowd):
    # given the bot lost can_restrict_members
    set_rule(managed, 30, dry_run=False)
    managed.sandbox.set_member(managed.chat_id, managed.bot.username, "administrator",
                               can_restrict_members=False)  # fmt: skip
    managed.skip_pending()

    # when the run goes through
    run = the_run(managed)

    # then it failed, says why, and nobody is marked gone
    assert run.status == KickRun.Status.FAILED
    assert "may not remove" in run.errors[-1]["error"]
    assert MemberActivity.objects.filter(left_at__isnull=False).count() == 1  # only Gone


def test_last_run_and_next_run_are_there_for_growth(managed, crowd):
    # given a finished run
    set_rule(managed, 30, dry_run=True)
    run = the_run(managed)

    # then last_run finds it and next_run_at is the next hour's :23
    assert services.last_run(managed.group) == run
    upcoming = services.next_run_at()
    assert upcoming > timezone.now() and upcoming.minute == 23
    assert upcoming - timezone.now() <= timedelta(hours=1)


def test_the_selection_can_use_the_kick_index(managed):
    # given a run's query
    set_rule(managed, 30, dry_run=True)
    [run_id] = kicker.do_start_runs()
    run = KickRun.objects.get(pk=run_id)

    # when PostgreSQL is told to avoid sequential scans (a tiny table would be read whole)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + kicker.SELECT, [run.group_id, run.cutoff, kicker.EPOCH, 0, 10])
        plan = "\n".join(row[0] for row in cursor.fetchall())

    # then the plan reads the partial index
    assert "activity_kick_idx" in plan


def test_a_bot_that_no_longer_runs_growth_kicks_nobody(managed, crowd):
    # given a rule, in a group whose bot was switched to the guard alone
    set_rule(managed, 30, dry_run=False)
    managed.bot.features = ["guard"]
    managed.bot.save()

    # when beat starts the hour's runs
    # then none starts
    assert kicker.do_start_runs() == []


def test_a_telegram_outage_pauses_the_run_and_too_many_errors_end_it(managed, crowd):
    # given a rule, and Telegram answering getChatAdministrators with 500 twice
    set_rule(managed, 30, dry_run=False)
    managed.sandbox.fault("getChatAdministrators", error_code=500,
                          description="Internal Server Error", times=2)  # fmt: skip
    [run_id] = kicker.do_start_runs()

    # when the chunks run: the first two wait, the third goes through
    assert kicker.do_kick_chunk(run_id) == kicker.TRANSIENT_PAUSE
    assert kicker.do_kick_chunk(run_id) == kicker.TRANSIENT_PAUSE
    run = run_to_the_end(run_id)

    # then the run finished with the outage on record
    assert run.status == KickRun.Status.DONE and run.removed == 2 and run.error_count == 2

    # and a run that keeps failing ends as failed
    managed.sandbox.fault("getChatAdministrators", error_code=500,
                          description="Internal Server Error")  # fmt: skip
    KickRun.objects.all().delete()
    [run_id] = kicker.do_start_runs()
    for _ in range(kicker.MAX_RUN_ERRORS):
        kicker.do_kick_chunk(run_id)
    failed = KickRun.objects.get(pk=run_id)
    assert failed.status == KickRun.Status.FAILED and "too many" in failed.errors[-1]["error"]
