"""gmbot/upsert.py: one INSERT … ON CONFLICT DO UPDATE, the model's own names, the values bound."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.bots.models import TelegramUser
from apps.chats.models import GroupMember
from gmbot.upsert import upsert
from tests.factories import GroupFactory

pytestmark = pytest.mark.django_db

NAMES = ("telegram_id", "first_name", "last_name", "username", "updated_at")


def test_new_rows_are_inserted_and_existing_ones_updated_only_in_the_fields_named() -> None:
    then = timezone.now() - timedelta(days=1)
    TelegramUser.objects.create(telegram_id=7, first_name="Ann", username="ann", updated_at=then)
    now = timezone.now()

    upsert(
        TelegramUser,
        [(7, "Anna", "", "ann", now), (8, "Bob'); DROP TABLE x; --", "B", "", now)],
        fields=NAMES,
        unique=("telegram_id",),
        update=("first_name", "updated_at"),
    )

    ann, bob = TelegramUser.objects.order_by("telegram_id")
    assert (ann.first_name, ann.username, ann.updated_at) == ("Anna", "ann", now)
    assert bob.first_name == "Bob'); DROP TABLE x; --" and bob.last_name == "B"


def test_a_foreign_key_is_named_by_its_field_and_the_unique_pair_holds() -> None:
    group = GroupFactory()
    first, later = timezone.now() - timedelta(hours=1), timezone.now()
    fields = ("group", "user_id", "last_seen_at")

    for at in (first, later):
        upsert(GroupMember, [(group.pk, 42, at)], fields=fields, unique=fields[:2],
               update=fields[2:])  # fmt: skip
    member = GroupMember.objects.get()

    assert (member.user_id, member.last_seen_at) == (42, later)
    assert member.created_at >= first  # auto_now_add, filled in as bulk_create would


def test_no_rows_is_no_statement(django_assert_num_queries: object) -> None:
    with django_assert_num_queries(0):  # type: ignore[operator]
        upsert(GroupMember, [], fields=("group",), unique=("group",), update=())
