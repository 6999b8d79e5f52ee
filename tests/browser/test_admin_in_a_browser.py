"""A staff member in a real browser (Debian's chromium): logs in, sees the dashboard's charts
drawn with data, opens a group, replays a dead letter, revokes an API key, and the API refuses
that key from then on."""

from __future__ import annotations

import pytest
import requests
from django.utils import timezone
from playwright.sync_api import Page, expect

from apps.api.models import APIKey
from apps.chats.models import Group
from apps.guard.models import GroupProtection
from apps.ops.models import DeadLetter
from apps.telegram import usage
from tests.factories import BotFactory, OwnerFactory

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def chart_data(page: Page, chart_id: str) -> dict[str, list[float]]:
    """What Chart.js holds for the chart on `chart_id`'s canvas, series by label."""
    page.wait_for_function(f"() => window.Chart && Chart.getChart('{chart_id}')")
    return page.evaluate(
        f"""() => Object.fromEntries(Chart.getChart('{chart_id}').data.datasets
                   .map(set => [set.label, set.data]))"""
    )


def test_staff_see_the_platform_act_on_it_and_revoke_a_key(
    page: Page, start_web, django_user_model, redis_client
):
    # given the platform: an owner's bot with three protected groups (one paused), a dead
    # letter, the bot's calls of the day, an API key of the owner, and a staff login
    django_user_model.objects.create_superuser("staff", password="browser-test-password")
    owner = OwnerFactory(first_name="Olga")
    bot = BotFactory(owner=owner, username="cats_bot")
    for n, title in enumerate(["Cats", "Kittens", "Lions"]):
        group = Group.objects.create(bot=bot, chat_id=-1_001_700_000_000 - n, title=title)
        GroupProtection.objects.create(group=group, paused_at=timezone.now() if n == 2 else None)
    letter = DeadLetter.objects.create(
        task_name="tasks.low.ping", task_id="browser-1", queue="low", exception_class="BadRequest",
        description="Bad Request: chat not found", attempts=1, first_failed_at=timezone.now(),
        last_failed_at=timezone.now(),
    )  # fmt: skip
    for result in ("ok", "ok", "ok", "bad_request"):
        usage.count(bot.telegram_id, "sendMessage", result)
    usage.flush()
    api_key, key = APIKey.objects.create_key(name="crm-sync", owner=owner)
    web = start_web()
    assert requests.get(f"{web.url}/api/groups", headers={"X-API-Key": key}, timeout=10).ok

    # when staff log in
    page.goto(f"{web.url}/admin/")
    page.fill("#id_username", "staff")
    page.fill("#id_password", "browser-test-password")
    page.click("input[type=submit]")

    # then the dashboard's charts are drawn with the platform's numbers
    expect(page.locator("h1")).to_have_text("The platform at a glance")
    assert chart_data(page, "chart-guard-0") == {"groups": [2, 1, 0]}
    assert chart_data(page, "chart-queues-0")["dead letters"] == [0, 0, 1]
    calls = chart_data(page, "chart-api-calls-0")
    assert sum(calls["calls"]) == 4 and sum(calls["errors"]) == 1

    # when they open a group from the list
    page.goto(f"{web.url}/admin/chats/group/")
    page.click("text=Kittens")
    # then its page shows the guard's settings as fields
    expect(page.locator("#id_protection-0-warning")).to_be_visible()
    expect(page.locator("#id_protection-0-mode")).to_have_value("delete")

    # when they replay the dead letter from its list
    page.goto(f"{web.url}/admin/ops/deadletter/")
    page.check(f"input[name=_selected_action][value='{letter.pk}']")
    page.select_option("select[name=action]", "replay")
    page.click("button[name=index]")
    # then it is replayed once
    expect(page.locator(".messagelist")).to_contain_text("Replayed 1")
    letter.refresh_from_db()
    assert letter.status == DeadLetter.Status.REPLAYED

    # when they revoke the owner's API key on its page
    page.goto(f"{web.url}/admin/api/apikey/")
    page.click(f"text={api_key.prefix}")
    page.check("#id_revoked")
    page.click("input[name=_save]")
    expect(page.locator(".messagelist")).to_be_visible()

    # then the API refuses the key
    refused = requests.get(f"{web.url}/api/groups", headers={"X-API-Key": key}, timeout=10)
    assert refused.status_code == 401
