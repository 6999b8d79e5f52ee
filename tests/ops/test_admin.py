"""The admin as a product: groups with their channels, members and protection, the guard's
settings as fields, pause and reactivate, members' names, the owner on the bot page, and a
login that locks after repeated failures."""

from __future__ import annotations

import pytest
from django.utils import timezone
from telebot.types import Update

from apps.bots import people
from apps.bots.context import context_for
from apps.chats.features import note_people
from apps.chats.models import GroupChannelLink, GroupMember
from apps.guard.models import GroupProtection
from tests.factories import BotFactory, ChannelFactory, GroupFactory, OwnerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _names_written_afresh() -> None:
    people.forget()  # each test's database starts empty; the process's memory must too


def protected_group(**fields: object):
    group = GroupFactory(**fields)
    channel = ChannelFactory(bot=group.bot, username="catnews")
    GroupChannelLink.objects.create(group=group, channel=channel)
    GroupProtection.objects.create(group=group)
    return group


def test_the_group_list_shows_channels_members_seen_and_protection(admin_client):
    group = protected_group(title="Cats")
    for user in (1, 2):
        GroupMember.objects.create(group=group, user_id=user, last_seen_at=timezone.now())
    GroupProtection.objects.filter(pk=group.pk).update(paused_at=timezone.now())

    page = admin_client.get("/admin/chats/group/").content.decode()

    assert "@catnews" in page
    assert '<td class="field-members_seen">2</td>' in page
    assert '<td class="field-protection_state">paused</td>' in page
    paused = admin_client.get("/admin/chats/group/?protection=protected").content.decode()
    assert "Cats" not in paused


def test_the_group_list_asks_as_many_queries_for_thirty_groups_as_for_three(admin_client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert admin_client.get("/admin/chats/group/").status_code == 200
        return len(captured)

    for _ in range(3):
        protected_group()
    with_three = queries()
    for _ in range(27):
        protected_group()
    assert queries() == with_three


def test_the_group_page_edits_the_guards_settings_as_fields(admin_client):
    group = protected_group()
    url = f"/admin/chats/group/{group.pk}/change/"
    page = admin_client.get(url).content.decode()
    assert 'name="protection-0-warning"' in page and 'name="protection-0-mode"' in page
    assert 'name="protection-0-settings"' not in page  # no raw JSON

    form = {
        "bot": group.bot_id, "chat_id": group.chat_id, "title": group.title, "enabled": "on",
        "channel_links-TOTAL_FORMS": "1", "channel_links-INITIAL_FORMS": "1",
        "channel_links-0-id": group.channel_links.get().pk, "channel_links-0-group": group.pk,
        "channel_links-0-channel": group.channel_links.get().channel_id,
        "protection-TOTAL_FORMS": "1", "protection-INITIAL_FORMS": "1",
        "protection-0-group": group.pk, "protection-0-enabled": "on",
        "protection-0-warning": "{name}, join {channels} first.", "protection-0-join_button": "",
        "protection-0-verify_button": "", "protection-0-mode": "mute",
    }  # fmt: skip
    answer = admin_client.post(url, form)

    assert answer.status_code == 302, answer.content.decode()[:2000]
    assert GroupProtection.objects.get(pk=group.pk).settings == {
        "warning": "{name}, join {channels} first.", "mode": "mute",
    }  # fmt: skip


def test_staff_pause_a_group_and_reactivating_runs_the_bots_checks(admin_client, make_bot):
    group = protected_group(bot=make_bot())
    changelist = "/admin/chats/group/"

    admin_client.post(changelist, {"action": "pause_protection", "_selected_action": [group.pk]})
    state = GroupProtection.objects.get(pk=group.pk)
    assert (
        state.paused_at is not None
        and state.pause_reason == "paused by staff (admin admin) in the admin"
    )

    # the bot is no admin of that chat in Telegram (the sandbox): the checks fail, it stays paused
    answer = admin_client.post(
        changelist, {"action": "reactivate_protection", "_selected_action": [group.pk]}, follow=True
    )
    assert "not reactivated" in answer.content.decode()
    assert GroupProtection.objects.get(pk=group.pk).paused_at is not None
    assert context_for(group.bot_id) is not None


def test_members_are_listed_with_the_names_telegram_showed(admin_client, make_bot):
    # given a bot's update from a member, seen by the core feature's observer
    bot = make_bot()
    group = GroupFactory(bot=bot)
    GroupMember.objects.create(group=group, user_id=4242, last_seen_at=timezone.now())
    nina = {"id": 4242, "is_bot": False, "first_name": "Nina", "last_name": "K",
            "username": "nina_k"}  # fmt: skip
    chat = {"id": group.chat_id, "type": "supergroup"}
    message = {"message_id": 5, "date": 0, "text": "hi", "chat": chat, "from": nina}
    update = Update.de_json({"update_id": 1, "message": message})
    context = context_for(bot.pk)
    assert context is not None
    note_people(update, context)

    # then the members list and the group's page name her
    listed = admin_client.get("/admin/chats/groupmember/").content.decode()
    assert "Nina K" in listed and "@nina_k" in listed
    assert "Nina K" in admin_client.get(f"/admin/chats/group/{group.pk}/change/").content.decode()
    # and the same name again writes nothing
    assert people.note([update.message.from_user]) == 0


def test_the_bot_page_shows_its_owner(admin_client):
    bot = BotFactory(owner=OwnerFactory(first_name="Olga", username="olga"))

    page = admin_client.get(f"/admin/bots/bot/{bot.pk}/change/").content.decode()

    assert "Olga" in page and "@olga" in page and str(bot.owner.telegram_id) in page


def test_the_admin_login_locks_after_five_failures(client, django_user_model):
    django_user_model.objects.create_superuser("staff", password="the-right-password")
    login = "/admin/login/?next=/admin/"
    for _ in range(5):
        client.post(login, {"username": "staff", "password": "wrong"})

    answer = client.post(login, {"username": "staff", "password": "the-right-password"})

    assert answer.status_code == 429
    assert client.get("/admin/").status_code == 302  # still not logged in
