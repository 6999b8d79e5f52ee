"""What /growth says of member activity and the kicker (SPEC M3, M4): asked in the group by its
owner, answered through the worker's entry point and the sandbox."""

from __future__ import annotations

import pytest

from apps.growth.models import GrowthProfile
from apps.members import texts
from apps.members.services import kicker, next_run_at
from tests.members.conftest import Managed
from tests.members.test_kicker import run_to_the_end

pytestmark = pytest.mark.django_db


def growth(managed: Managed) -> list[str]:
    managed.sandbox.message(managed.owner, managed.chat_id, "/growth")
    managed.deliver()
    return str(managed.calls("sendMessage")[-1]["params"]["text"]).splitlines()


def test_growth_shows_activity_the_rule_the_next_run_and_the_last_one(managed):
    # given a 30-day rule in dry run, two silent members and one who wrote
    GrowthProfile.objects.filter(group=managed.group).update(kick_after_days=30, kick_dry_run=True)
    for name in ("Sam", "Sue"):
        managed.silent_since(managed.member(name), days=40)
    managed.silent_since(managed.member("Ada"), days=1)

    # when the owner asks before any run
    before = growth(managed)
    # then the activity, the rule with the next run, and no run yet
    assert texts.ACTIVITY.format(days=30, active=1, present=3) in before
    assert texts.KICK_RULE.format(days=30, action=texts.KICK_DRY_RUN, at=next_run_at()) in before
    assert before[-1] == texts.LAST_NONE

    # and after a run, its summary
    [run_id] = kicker.do_start_runs()
    run = run_to_the_end(run_id)
    after = growth(managed)
    assert after[-1] == texts.LAST_DRY_RUN.format(
        at=run.started_at, status="done", candidates=2, listed=2, skipped=0, errors=0
    )


def test_growth_says_when_there_is_no_kick_rule(managed):
    # given no kick rule
    # when the owner asks
    lines = growth(managed)
    # then the kicker is off
    assert texts.KICK_OFF in lines
