"""Sending a periodic message's run (SPEC M6) in this process, through the services the
`normal` jobs call, to the sandbox over HTTP: what each group gets and why not, every outcome
recorded, a run never sent twice, the scheduled run a job belongs to."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from apps.chats.models import UnreachableChat
from apps.periodic.models import PeriodicButton, PeriodicMessage, PeriodicRun, PeriodicSend
from apps.periodic.services import runs, sending
from apps.periodic.services.schedule import Schedule
from tests.periodic.conftest import World, outcomes, run

pytestmark = pytest.mark.django_db

SENT, SKIPPED, FAILED = (PeriodicSend.Status.SENT, PeriodicSend.Status.SKIPPED,
                         PeriodicSend.Status.FAILED)  # fmt: skip


def define(world: World, groups=None, **fields) -> PeriodicMessage:
    fields.setdefault("name", "Reminder")
    fields.setdefault("text", "Read the rules, please.")
    fields.setdefault("every", 30)
    fields.setdefault("period", "minutes")
    message = PeriodicMessage.objects.create(bot=world.bot, **fields)
    if groups is not None:
        message.groups.set(groups)
    return message


def keyboard(call: dict) -> list[list[tuple[str, str]]]:
    rows = call["params"]["reply_markup"]["inline_keyboard"]
    return [[(b["text"], b["url"]) for b in row] for row in rows]


def test_a_photo_with_url_buttons_reaches_every_active_group_once_each_recorded(world: World):
    # given a photo with three buttons in two rows, to all active groups; one group disabled
    cats, dogs, birds = world.groups
    birds.enabled = False
    birds.save()
    message = define(world, all_groups=True, photo="https://example.com/rules.jpg",
                     text="Our rules")  # fmt: skip
    for text, row, position in (("Shop", 1, 2), ("Rules", 1, 1), ("Talk", 2, 1)):
        PeriodicButton.objects.create(message=message, text=text, row=row, position=position,
                                      url=f"https://example.com/{text.lower()}")  # fmt: skip

    # when a scheduled run goes out
    done = run(message)

    # then each active group got the photo once, caption and keyboard as defined
    photos = world.sends(method="sendPhoto")
    assert sorted(int(c["params"]["chat_id"]) for c in photos) == sorted([cats.chat_id,
                                                                         dogs.chat_id])  # fmt: skip
    assert {c["params"]["caption"] for c in photos} == {"Our rules"}
    assert keyboard(photos[0]) == [
        [("Rules", "https://example.com/rules"), ("Shop", "https://example.com/shop")],
        [("Talk", "https://example.com/talk")],
    ]
    # and every send is on record with the message id Telegram gave (disabled groups are not
    # targets of "all active groups")
    assert outcomes(done) == {cats.pk: (SENT, ""), dogs.pk: (SENT, "")}
    posted = {int(c["params"]["chat_id"]): c["response"]["result"]["message_id"] for c in photos}
    assert {s.chat_id: s.message_id for s in done.sends.all()} == posted
    assert done.finished_at is not None


def test_chosen_groups_disabled_or_unreachable_are_skipped_and_a_refusal_keeps_telegrams_words(
    world: World,
):
    # given three chosen groups: one disabled, one that removed the bot, one fine
    cats, dogs, birds = world.groups
    dogs.enabled = False
    dogs.save()
    world.sandbox.set_member(birds.chat_id, world.bot.username, "kicked")
    message = define(world, groups=[cats, dogs, birds])

    # when two scheduled runs go out (different slots)
    first = run(message)
    first.run_key = "moved"  # the next slot, as the next firing would find it
    first.save()
    second = run(message)

    # then the disabled group is skipped, the refusal is recorded in Telegram's words, and the
    # next run skips that group without calling
    assert outcomes(first) == {cats.pk: (SENT, ""), dogs.pk: (SKIPPED, "disabled"),
                               birds.pk: (FAILED, "kicked")}  # fmt: skip
    refused = first.sends.get(group=birds)
    assert refused.description == "Forbidden: bot was kicked from the supergroup chat"
    assert UnreachableChat.objects.filter(bot=world.bot, chat_id=birds.chat_id).exists()
    assert outcomes(second)[birds.pk] == (SKIPPED, "unreachable")
    assert len(world.sandbox.calls(method="sendMessage", chat_id=birds.chat_id)) == 1
    assert len(world.sends(chat_id=cats.chat_id)) == 2


def test_the_same_scheduled_run_twice_sends_once_to_each_chat(world: World):
    # given a message to two groups
    cats, dogs, _ = world.groups
    message = define(world, groups=[cats, dogs])

    # when its job runs, is redelivered (same task id), and a second job comes for the same slot
    first = run(message, task_id="job-1")
    again = run(message, task_id="job-1")
    other = run(message, task_id="job-2")

    # then it is one run, and each chat got one message
    assert first.pk == again.pk == other.pk
    assert PeriodicRun.objects.filter(message=message).count() == 1
    assert len(world.sends(chat_id=cats.chat_id)) == 1
    assert len(world.sends(chat_id=dogs.chat_id)) == 1


def test_a_full_budget_puts_the_row_back_and_the_next_batch_comes_after_retry_after(
    world: World,
):
    cats = world.groups[0]
    message = define(world, groups=[cats])
    world.sandbox.fault("sendMessage", error_code=429, retry_after=3, times=1)
    run_id = runs.do_start_run(message.pk, "job")
    assert run_id is not None

    countdown = sending.do_send_batch(run_id)

    assert countdown == 3.0
    assert PeriodicSend.objects.get(run_id=run_id).status == PeriodicSend.Status.PENDING
    assert sending.do_send_batch(run_id) is None
    assert PeriodicSend.objects.get(run_id=run_id).status == SENT


def test_a_message_telegram_refuses_fails_the_rest_of_the_run_without_calling(world: World):
    # given a caption longer than Telegram takes (written around the admin's check)
    message = define(world, groups=world.groups, photo="https://example.com/p.jpg",
                     text="x" * 1100)  # fmt: skip

    done = run(message)

    assert {status for status, _ in outcomes(done).values()} == {FAILED}
    assert len(world.sandbox.calls(method="sendPhoto")) == 1
    first, *rest = done.sends.order_by("id")
    assert first.description == "Bad Request: message caption is too long"
    assert all(row.description.startswith("not sent: refused in chat") for row in rest)


def test_a_bot_that_stops_running_the_feature_or_a_disabled_message_sends_nothing(
    world: World,
):
    message = define(world, groups=world.groups[:1])
    world.bot.features = ["guard"]
    world.bot.save()
    assert outcomes(run(message)) == {world.groups[0].pk: (SKIPPED, "feature_off")}

    message.enabled = False
    message.save()
    assert runs.do_start_run(message.pk, "late-job") is None
    assert world.sandbox.calls(method="sendMessage") == []


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_run_keys_name_the_scheduled_run_a_job_falls_in():
    every_30 = Schedule(kind="interval", every=30, period="minutes")
    assert runs.run_key(every_30, at("2026-12-01 10:01")) == "2026-12-01T10:00+00:00"
    assert runs.run_key(every_30, at("2026-12-01 10:29")) == "2026-12-01T10:00+00:00"
    assert runs.run_key(every_30, at("2026-12-01 10:31")) == "2026-12-01T10:30+00:00"

    # 09:00 on weekdays in Berlin (UTC+1 in December): Tuesday 10:00 UTC belongs to 08:00 UTC;
    # Monday 07:59 UTC still to last Friday's
    weekdays_9 = Schedule(kind="crontab", cron=("0", "9", "*", "*", "mon-fri"),
                          timezone="Europe/Berlin")  # fmt: skip
    assert runs.run_key(weekdays_9, at("2026-12-01 10:00")) == "2026-12-01T08:00+00:00"
    assert runs.run_key(weekdays_9, at("2026-11-30 07:59")) == "2026-11-27T08:00+00:00"
    quarter = Schedule(kind="crontab", cron=("*/15", "*", "*", "*", "*"))
    assert runs.run_key(quarter, at("2026-12-01 10:44")) == "2026-12-01T10:30+00:00"


def test_sends_keep_the_per_chat_spacing_of_the_shared_budgets(world: World, settings):
    # given the real spacing between bulk messages to one group (3 s)
    settings.TELEGRAM_GROUP_SPACING_MS = 3000
    cats = world.groups[0]
    first = define(world, groups=[cats], name="First")
    second = define(world, groups=[cats], name="Second")
    run(first)

    # when another message's run comes for the same group at once
    run_id = runs.do_start_run(second.pk, "job")
    assert run_id is not None
    countdown = sending.do_send_batch(run_id)

    # then nothing is sent yet: the row waits, and the next batch comes once the spacing allows
    assert countdown is not None and 1.0 <= countdown <= 3.0
    assert PeriodicSend.objects.get(run_id=run_id).status == PeriodicSend.Status.PENDING
    assert len(world.sends(chat_id=cats.chat_id)) == 1
