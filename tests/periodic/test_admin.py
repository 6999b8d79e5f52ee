"""Periodic messages defined in the admin (SPEC M6): each definition owns its beat row, written,
changed and removed with it through the admin's own form; what the form refuses."""

from __future__ import annotations

import json

import pytest
from django.db.models import ProtectedError
from django_celery_beat.models import PeriodicTask

from apps.chats.models import Group
from apps.periodic.models import PeriodicButton, PeriodicMessage
from tests.periodic.conftest import ADD_URL, World, change_url, errors_of, form_data

pytestmark = pytest.mark.django_db

BUTTONS = [("Rules", "https://example.com/rules", 1, 1), ("Shop", "https://example.com/shop", 1, 2),
           ("Chat with us", "https://t.me/olga", 2, 1)]  # fmt: skip


def add(admin_client, data: dict) -> PeriodicMessage:
    answer = admin_client.post(ADD_URL, data)
    assert answer.status_code == 302, errors_of(answer)
    return PeriodicMessage.objects.get()


def test_a_message_defined_in_the_admin_owns_a_beat_row_that_names_its_task(
    world: World, admin_client
):
    cats, dogs, _ = world.groups

    # when a message every 30 minutes to two groups, with three buttons, is saved
    message = add(admin_client, form_data(world.bot, [cats, dogs], BUTTONS))

    # then its beat row runs the periodic task for it, every 30 minutes, enabled, expiring its
    # jobs within the interval
    task = PeriodicTask.objects.get(pk=message.task_id)
    assert (task.task, json.loads(task.args), task.enabled) == (
        "tasks.normal.send_periodic_message", [message.pk], True,
    )  # fmt: skip
    assert (task.interval.every, task.interval.period, task.crontab) == (30, "minutes", None)
    assert task.expire_seconds == 600
    # and the buttons are stored as rows, in order
    assert [(b.text, b.url, b.row, b.position) for b in message.buttons.all()] == BUTTONS
    assert set(message.groups.all()) == {cats, dogs}


def test_editing_the_schedule_in_the_admin_changes_the_beat_row_and_disabling_disables_it(
    world: World, admin_client
):
    cats, dogs, _ = world.groups
    message = add(admin_client, form_data(world.bot, [cats], BUTTONS[:1]))
    task_id = message.task_id

    # when its schedule becomes a crontab (every 5 minutes from 9 to 17 on weekdays, Berlin)
    # and a button is added
    answer = admin_client.post(change_url(message), form_data(
        world.bot, [cats, dogs], BUTTONS[1:2], existing=list(message.buttons.all()),
        kind="crontab", minute="*/5", hour="9-17", day_of_week="mon-fri",
        timezone="Europe/Berlin", every="", period="",
    ))  # fmt: skip
    assert answer.status_code == 302, errors_of(answer)

    # then the same beat row now runs on that crontab, and expires jobs within 5 minutes
    task = PeriodicTask.objects.get(pk=task_id)
    assert task.interval is None
    cron = task.crontab
    assert (cron.minute, cron.hour, cron.day_of_week, str(cron.timezone)) == (
        "*/5", "9-17", "mon-fri", "Europe/Berlin",
    )  # fmt: skip
    assert task.expire_seconds == 299
    assert PeriodicButton.objects.filter(message=message).count() == 2

    # when it is disabled in the form, then its beat row is disabled
    answer = admin_client.post(change_url(message), form_data(
        world.bot, [cats], existing=list(message.buttons.all()), enabled=False,
    ))  # fmt: skip
    assert answer.status_code == 302, errors_of(answer)
    task.refresh_from_db()
    assert task.enabled is False
    assert (task.interval.every, task.interval.period) == (30, "minutes")

    # and the list's "enable" action turns it back on, beat row included
    admin_client.post("/admin/periodic/periodicmessage/",
                      {"action": "enable", "_selected_action": [message.pk]})  # fmt: skip
    task.refresh_from_db()
    assert task.enabled is True


@pytest.mark.parametrize(
    "change, field",
    [
        ({"buttons": [("Evil", "javascript:alert(1)", 1, 1)]}, "Enter a valid URL"),
        ({"buttons": [(f"B{n}", "https://example.com", 1, n) for n in range(9)]}, "At most 8"),
        ({"buttons": [("Far", "https://example.com", 9, 1)]}, "less than or equal to 8"),
        ({"kind": "crontab", "minute": "61"}, "Not a crontab minute"),
        ({"kind": "crontab", "timezone": "Mars/Olympus"}, "Unknown time zone"),
        ({"every": ""}, "An interval needs a number"),
        ({"text": ""}, "Write the message, or give a photo"),
        ({"text": "x" * 1025, "photo": "https://example.com/p.jpg"}, "at most 1,024"),
        ({"groups": []}, "Choose groups"),
    ],
)
def test_a_definition_the_bot_could_not_send_is_refused_and_nothing_is_written(
    world: World, admin_client, change: dict, field: str
):
    buttons = change.pop("buttons", [])
    groups = change.pop("groups", world.groups[:1])
    data = form_data(world.bot, groups, buttons, **change)

    answer = admin_client.post(ADD_URL, data)

    assert answer.status_code == 200
    assert field in errors_of(answer)
    assert not PeriodicMessage.objects.exists()
    assert not PeriodicTask.objects.filter(task="tasks.normal.send_periodic_message").exists()


def test_groups_of_another_bot_and_bots_without_the_feature_are_refused(
    world: World, admin_client, make_bot
):
    other = make_bot(features=["periodic"])
    stranger = Group.objects.create(bot=other, chat_id=-100999, title="Elsewhere")
    answer = admin_client.post(ADD_URL, form_data(world.bot, [stranger]))
    assert "Not groups of" in errors_of(answer)

    guard_only = make_bot(features=["guard"])
    answer = admin_client.post(ADD_URL, form_data(guard_only, [], all_groups="on"))
    assert "does not run the periodic feature" in errors_of(answer)
    assert not PeriodicMessage.objects.exists()


def test_deleting_the_definition_in_the_admin_removes_its_beat_row_which_is_never_deleted_alone(
    world: World, admin_client
):
    first = add(admin_client, form_data(world.bot, world.groups[:1], name="First"))
    # the beat row cannot go on its own (from django-celery-beat's admin, say)
    with pytest.raises(ProtectedError):
        PeriodicTask.objects.get(pk=first.task_id).delete()
    answer = admin_client.post(ADD_URL, form_data(world.bot, world.groups[:1], name="Second"))
    assert answer.status_code == 302
    second = PeriodicMessage.objects.get(name="Second")

    # when one is deleted from its page and the other with the list's delete action
    answer = admin_client.post(f"/admin/periodic/periodicmessage/{first.pk}/delete/",
                               {"post": "yes"})  # fmt: skip
    assert answer.status_code == 302
    admin_client.post("/admin/periodic/periodicmessage/", {
        "action": "delete_selected", "_selected_action": [second.pk], "post": "yes"})  # fmt: skip

    # then both beat rows are gone
    assert not PeriodicMessage.objects.exists()
    assert not PeriodicTask.objects.filter(pk__in=[first.task_id, second.task_id]).exists()
