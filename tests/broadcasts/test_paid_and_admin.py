"""Paid broadcast (SPEC B8) and the admin: start, live progress, CSV export (SPEC B3, B6)."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest

from apps.broadcasts.models import Broadcast, BroadcastBot, Delivery
from apps.broadcasts.services import creation, progress
from tests.broadcasts.conftest import World, run

pytestmark = pytest.mark.django_db


def test_a_paid_broadcast_shows_its_cost_spends_stars_and_pauses_when_they_run_out(
    world: World,
):
    # given a bot that allows paid broadcasting, five groups and Stars for three messages
    BroadcastBot.objects.create(bot=world.bot, allow_paid_broadcast=True, paid_rate=1000)
    for title in ("Fish", "Frogs"):
        world.add_group(title)
    world.sandbox.set_star_balance(world.bot.username, 0.3)
    broadcast = world.broadcast(paid=True)
    assert progress.progress(broadcast)["stars_estimated"] == Decimal("0.5")

    # when it goes out
    run(broadcast)

    # then three went with allow_paid_broadcast, and the fourth found the balance empty
    sent = world.sends()
    assert len(sent) == 3
    assert all(str(c["params"]["allow_paid_broadcast"]).lower() == "true" for c in sent)
    refused = [c for c in world.sandbox.calls(method="sendMessage") if c["status"] == 400]
    assert refused[0]["response"]["description"] == "Bad Request: BALANCE_TOO_LOW"
    assert broadcast.status == Broadcast.Status.PAUSED
    assert "Star balance" in broadcast.status_reason
    shown = progress.progress(broadcast)
    assert (shown["sent"], shown["pending"], shown["stars_spent"]) == (3, 2, Decimal("0.3"))

    # and with Stars added it resumes where it stopped
    world.sandbox.set_star_balance(world.bot.username, 1)
    assert creation.do_start(broadcast) is True
    run(broadcast)
    shown = progress.progress(broadcast)
    assert (broadcast.status, shown["sent"], shown["stars_spent"]) == (
        Broadcast.Status.DONE,
        5,
        Decimal("0.5"),
    )
    assert len(world.sends()) == 5


def test_a_paid_broadcast_needs_a_bot_that_allows_it(world: World):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as refused:
        world.broadcast(paid=True)
    assert "paid" in refused.value.message_dict


def test_the_admin_creates_starts_and_shows_a_broadcast_live(world: World, admin_client):
    cats = world.groups[0]
    answer = admin_client.post(
        "/admin/broadcasts/broadcast/add/",
        {"bot": world.bot.pk, "live": world.live.pk, "text": "From the admin",
         "ban_button": "on", "all_groups": "", "chosen_groups": [cats.pk]},
    )  # fmt: skip
    assert answer.status_code == 302, answer.content.decode()[:2000]
    broadcast = Broadcast.objects.get(text="From the admin")
    assert broadcast.status == Broadcast.Status.DRAFT

    page = admin_client.get(f"/admin/broadcasts/broadcast/{broadcast.pk}/change/")
    assert b"broadcast-progress" in page.content
    shown = admin_client.get(f"/admin/broadcasts/broadcast/{broadcast.pk}/progress/").json()
    assert (shown["status"], shown["targets"]) == ("draft", 1)

    admin_client.post("/admin/broadcasts/broadcast/", {
        "action": "start", "_selected_action": [broadcast.pk]})  # fmt: skip
    broadcast.refresh_from_db()
    assert broadcast.status == Broadcast.Status.QUEUED
    run(broadcast)
    shown = admin_client.get(f"/admin/broadcasts/broadcast/{broadcast.pk}/progress/").json()
    assert (shown["status"], shown["sent"]) == ("done", 1)


def test_the_csv_export_streams_every_delivery_with_formula_safe_cells(world: World, admin_client):
    cats, dogs, _ = world.groups
    cats.title = '=HYPERLINK("http://evil")'
    cats.save()
    broadcast = run(world.broadcast())

    answer = admin_client.post("/admin/broadcasts/broadcast/", {
        "action": "export_csv", "_selected_action": [broadcast.pk]})  # fmt: skip

    assert answer.streaming and answer["Content-Type"].startswith("text/csv")
    body = b"".join(answer.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(body[1:])))
    assert len(rows) == 3
    by_group = {int(row["group"]): row for row in rows}
    assert by_group[cats.pk]["group_title"] == '\'=HYPERLINK("http://evil")'
    assert by_group[dogs.pk]["chat_id"] == str(dogs.chat_id)  # a number stays a number
    assert by_group[dogs.pk]["debug_code"].startswith("DBG:")
    assert by_group[dogs.pk]["status"] == Delivery.Status.SENT

    page = admin_client.get(f"/admin/broadcasts/broadcast/{broadcast.pk}/export/")
    assert b"".join(page.streaming_content).decode("utf-8") == body
    found = admin_client.get("/admin/broadcasts/delivery/", {"q": by_group[dogs.pk]["debug_code"]})
    assert found.status_code == 200 and f">{by_group[dogs.pk]['debug_code']}<" in found.text
