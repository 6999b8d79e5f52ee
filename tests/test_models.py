"""Model constraints hold in PostgreSQL itself (SPEC G1, Architecture)."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction

from apps.bots.models import Bot
from apps.chats.models import Channel, Group, GroupChannelLink
from tests.factories import BotFactory, ChannelFactory, GroupFactory

pytestmark = pytest.mark.django_db

BIG_USER_ID = 7_012_345_678  # Telegram ids exceed 2^32
SUPERGROUP_ID = -1_002_345_678_901


def test_64_bit_telegram_ids_are_stored_and_read_back():
    bot = BotFactory(telegram_id=BIG_USER_ID)
    group = GroupFactory(bot=bot, chat_id=SUPERGROUP_ID)

    assert Bot.objects.get(pk=bot.pk).telegram_id == BIG_USER_ID
    assert Group.objects.get(pk=group.pk).chat_id == SUPERGROUP_ID


def test_a_group_channel_link_cannot_be_recorded_twice():
    group, channel = GroupFactory(), ChannelFactory()
    GroupChannelLink.objects.create(group=group, channel=channel)

    with pytest.raises(IntegrityError), transaction.atomic():
        GroupChannelLink.objects.create(group=group, channel=channel)


def test_a_group_may_require_several_channels_and_a_channel_protect_many_groups():
    bot = BotFactory()
    groups = GroupFactory.create_batch(2, bot=bot)
    channels = ChannelFactory.create_batch(2, bot=bot)
    for group in groups:
        for channel in channels:
            GroupChannelLink.objects.create(group=group, channel=channel)

    assert GroupChannelLink.objects.filter(channel=channels[0]).count() == 2
    assert GroupChannelLink.objects.filter(group=groups[0]).count() == 2


def test_the_same_chat_is_one_group_per_bot():
    group = GroupFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Group.objects.create(bot=group.bot, chat_id=group.chat_id)
    # another bot may manage the same chat
    Group.objects.create(bot=BotFactory(), chat_id=group.chat_id)


def test_the_same_channel_is_one_row_per_bot():
    channel = ChannelFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Channel.objects.create(bot=channel.bot, chat_id=channel.chat_id)


def test_bot_token_is_encrypted_at_rest_and_never_in_repr():
    token = "123456:AAE-secret-token-value"
    bot = BotFactory(token=token)

    with connection.cursor() as cursor:
        cursor.execute("SELECT encrypted_token FROM bots_bot WHERE id = %s", [bot.pk])
        (stored,) = cursor.fetchone()
    assert token not in stored and "secret-token" not in stored
    assert Bot.objects.get(pk=bot.pk).token == token
    assert token not in repr(bot) and token not in str(bot)


def test_webhook_secret_is_kept_only_as_a_hash():
    bot = BotFactory()
    secret = bot.rotate_webhook_secret()
    bot.save()

    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM bots_bot WHERE id = %s", [bot.pk])
        row = cursor.fetchone()
    assert all(secret not in str(value) for value in row)
    assert len(bot.webhook_secret_hash) == 64
