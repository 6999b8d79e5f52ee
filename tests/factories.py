"""factory_boy factories for the project's models."""

from __future__ import annotations

import factory

from apps.bots import crypto
from apps.bots.models import Bot, Owner
from apps.chats.models import Channel, Group


class OwnerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Owner

    telegram_id = factory.Sequence(lambda n: 5_000_000_000 + n)
    username = factory.Sequence(lambda n: f"owner{n}")


class BotFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Bot

    telegram_id = factory.Sequence(lambda n: 6_000_000_000 + n)
    username = factory.Sequence(lambda n: f"gm{n}_bot")
    owner = factory.SubFactory(OwnerFactory)
    encrypted_token = factory.LazyAttribute(lambda bot: crypto.encrypt_token(bot.token))
    webhook_secret_hash = factory.LazyAttribute(lambda bot: crypto.hash_secret(bot.webhook_secret))

    class Params:
        token = factory.LazyAttribute(lambda bot: f"{bot.telegram_id}:test-token-{bot.username}")
        webhook_secret = factory.LazyFunction(crypto.new_webhook_secret)


class GroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Group

    bot = factory.SubFactory(BotFactory)
    chat_id = factory.Sequence(lambda n: -1_001_000_000_000 - n)
    title = factory.Sequence(lambda n: f"Group {n}")


class ChannelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Channel

    bot = factory.SubFactory(BotFactory)
    chat_id = factory.Sequence(lambda n: -1_002_000_000_000 - n)
    title = factory.Sequence(lambda n: f"Channel {n}")
    username = factory.Sequence(lambda n: f"channel{n}")
