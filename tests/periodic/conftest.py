"""A bot that runs the periodic feature, its owner and groups in the sandbox's Telegram and in
GMBot's database; the admin form's POST data for a periodic message (as the browser sends it,
buttons as an inline formset); and `run`, which drives a scheduled run in this process through
the very services the `normal` jobs call.

Real PostgreSQL, Redis and the sandbox over HTTP; test_end_to_end.py runs the same with real
workers, the beat scheduler's due logic and the broker."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest

from apps.bots.models import Bot, Owner
from apps.chats.models import Group
from apps.periodic.models import PeriodicButton, PeriodicMessage, PeriodicRun
from apps.periodic.services import runs, sending
from sandbox.client import Sandbox

ADMIN_RIGHTS = {"can_delete_messages": True, "can_restrict_members": True}
ADD_URL = "/admin/periodic/periodicmessage/add/"


def change_url(message: PeriodicMessage) -> str:
    return f"/admin/periodic/periodicmessage/{message.pk}/change/"


@dataclass
class World:
    sandbox: Sandbox
    bot: Bot
    owner: Owner
    groups: list[Group] = field(default_factory=list)

    def add_group(self, title: str, **fields: Any) -> Group:
        chat = self.sandbox.create_chat("supergroup", title=title, owner_id=self.owner.telegram_id)
        self.sandbox.add_bot(self.bot.username, chat["id"], status="administrator",
                             **ADMIN_RIGHTS)  # fmt: skip
        group = Group.objects.create(
            bot=self.bot, chat_id=chat["id"], owner=self.owner, title=title, **fields
        )
        self.groups.append(group)
        return group

    def sends(self, chat_id: int | None = None, method: str = "sendMessage") -> list[dict]:
        return [
            call
            for call in self.sandbox.calls(bot=self.bot.username, method=method, chat_id=chat_id)
            if call["status"] == 200
        ]


def form_data(
    bot: Bot,
    groups: list[Group],
    buttons: list[tuple[str, str, int, int]] = (),  # type: ignore[assignment]
    existing: list[PeriodicButton] = (),  # type: ignore[assignment]
    **fields: Any,
) -> dict[str, Any]:
    """What the admin's add or change form posts: the message's fields, then the buttons'
    inline formset (`existing` ones kept as they are, `buttons` added)."""
    data: dict[str, Any] = {
        "bot": bot.pk, "name": "Rules reminder", "text": "Read the rules, please.",
        "photo": "", "groups": [g.pk for g in groups], "kind": "interval", "every": 30,
        "period": "minutes", "minute": "0", "hour": "*", "day_of_month": "*",
        "month_of_year": "*", "day_of_week": "*", "timezone": "UTC", "enabled": "on",
    }  # fmt: skip
    data.update(fields)
    for name in [name for name, value in data.items() if value is False]:
        del data[name]  # an unticked checkbox is not posted
    rows = [(b.pk, b.text, b.url, b.row, b.position) for b in existing]
    rows += [(None, *button) for button in buttons]
    data.update({
        "buttons-TOTAL_FORMS": len(rows), "buttons-INITIAL_FORMS": len(existing),
        "buttons-MIN_NUM_FORMS": 0, "buttons-MAX_NUM_FORMS": 24,
    })  # fmt: skip
    for n, (pk, text, url, row, position) in enumerate(rows):
        data.update({f"buttons-{n}-text": text, f"buttons-{n}-url": url,
                     f"buttons-{n}-row": row, f"buttons-{n}-position": position})  # fmt: skip
        if pk is not None:
            data[f"buttons-{n}-id"] = pk
    return data


def errors_of(answer: Any) -> str:
    """The errors an admin form page shows, for an assertion message."""
    context = answer.context
    if context is None or "adminform" not in context:
        return ""
    found = [str(context["adminform"].form.errors)]
    found += [str(formset.formset.errors) for formset in context.get("inline_admin_formsets", [])]
    found += [str(formset.formset.non_form_errors()) for formset in
              context.get("inline_admin_formsets", [])]  # fmt: skip
    return " ".join(found)


def run(message: PeriodicMessage, task_id: str | None = None, timeout: float = 30) -> PeriodicRun:
    """One scheduled run of `message`, as its `normal` jobs would do it, waiting out countdowns."""
    deadline = time.monotonic() + timeout
    run_id = runs.do_start_run(message.pk, task_id or uuid.uuid4().hex)
    assert run_id is not None, "nothing to send"
    while (countdown := sending.do_send_batch(run_id)) is not None:
        assert time.monotonic() < deadline, "the run did not finish"
        time.sleep(countdown)
    return PeriodicRun.objects.get(pk=run_id)


def outcomes(run: PeriodicRun) -> dict[int, tuple[str, str]]:
    """{group id: (status, reason)} of a run."""
    return {s.group_id: (s.status, s.reason) for s in run.sends.all()}


@pytest.fixture(autouse=True)
def _empty_redis(redis_client):
    """Budgets start empty: bot ids repeat from test to test."""
    redis_client.flushdb()
    yield


@pytest.fixture
def fast(settings: Any) -> None:
    """Short spacing per group, so a test's runs to one group follow each other in milliseconds;
    the real 3 s is the budgets' own tests' business."""
    settings.TELEGRAM_GROUP_SPACING_MS = 20


@pytest.fixture
def world(sandbox: Sandbox, make_bot: Any, fast: None) -> World:
    """An owner, the bot running the periodic feature, three groups."""
    user = sandbox.create_user("Olga", username="olga")
    owner = Owner.objects.create(telegram_id=user["id"], username="olga")
    bot = make_bot(owner=owner, features=["periodic"])
    made = World(sandbox, bot, owner)
    for title in ("Cats", "Dogs", "Birds"):
        made.add_group(title)
    return made
