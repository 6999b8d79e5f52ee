"""The guard's state moved out of apps/chats into its own models (guard.0002, chats.0004), with
features per bot (bots.0002) and UnreachableChat in apps/chats (chats.0003): a database filled
by the old schema keeps every protection, pause, setting and member state, and the flows act on
them as before."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from apps.bots import crypto
from apps.bots.models import Bot
from apps.chats.models import GroupMember, UnreachableChat
from apps.guard import texts
from apps.guard.models import GroupProtection, MemberState
from tests.guard.conftest import GROUP_RIGHTS, Guarded, listen_to_everything

pytestmark = pytest.mark.django_db(transaction=True)

# The schema before this change: no guard tables, the guard's state in the chats tables.
OLD = [
    ("bots", "0001_initial"),
    ("chats", "0002_guard_pause_and_members"),
    ("telegram", "0001_initial"),
    ("guard", None),
]
TOKEN = "7300000001:sandbox-token-migrated_bot"
PAUSED_BECAUSE = "I am no longer an admin of this group."


@contextmanager
def old_schema() -> Iterator[Any]:
    """The database migrated back to OLD, and the old models to fill it with; migrated forward
    to the latest schema on the way out, whatever happened."""
    executor = MigrationExecutor(connection)
    executor.migrate(OLD)
    try:
        yield executor.loader.project_state([node for node in OLD if node[1]]).apps
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())


def test_protections_pauses_settings_and_member_states_survive_and_the_flows_act_on_them(
    sandbox, redis_client
):
    # given a sandbox world: one channel, a group in mute mode, a paused one, an unprotected one
    sandbox.create_bot(token=TOKEN, username="migrated_bot")
    owner = int(sandbox.create_user("Olga", username="olga")["id"])
    channel = int(sandbox.create_chat("channel", title="News", username="news")["id"])
    sandbox.add_bot("migrated_bot", channel, status="administrator")
    chats = {}
    for name in ("muting", "paused", "off"):
        chats[name] = int(sandbox.create_chat("supergroup", title=name, owner_id=owner)["id"])
        sandbox.add_bot("migrated_bot", chats[name], status="administrator", **GROUP_RIGHTS)
    seen = timezone.now() - timedelta(minutes=5)

    # and the rows the old schema kept of it
    with old_schema() as old:
        bot = old.get_model("bots", "Bot").objects.create(
            telegram_id=7_300_000_001, username="migrated_bot",
            encrypted_token=crypto.encrypt_token(TOKEN),
            webhook_secret_hash=crypto.hash_secret(crypto.new_webhook_secret()),
        )  # fmt: skip
        boss = old.get_model("bots", "Owner").objects.create(telegram_id=owner, username="olga")
        news = old.get_model("chats", "Channel").objects.create(
            bot=bot, chat_id=channel, title="News", username="news"
        )
        Group = old.get_model("chats", "Group")
        groups = {
            "muting": Group.objects.create(
                bot=bot, chat_id=chats["muting"], title="muting", owner=boss,
                params={"mode": "mute", "warning": "Hey {name}, join {channels}!"},
            ),
            "paused": Group.objects.create(
                bot=bot, chat_id=chats["paused"], title="paused", owner=boss,
                paused_at=timezone.now(), pause_reason=PAUSED_BECAUSE,
            ),
            "off": Group.objects.create(
                bot=bot, chat_id=chats["off"], title="off", owner=boss, enabled=False
            ),
        }  # fmt: skip
        for group in groups.values():
            old.get_model("chats", "GroupChannelLink").objects.create(group=group, channel=news)
        for user_id, status in ((501, "verified"), (502, "restricted")):
            old.get_model("chats", "GroupMember").objects.create(
                group=groups["paused"], user_id=user_id, status=status,
                last_seen_at=seen, checked_at=seen,
            )  # fmt: skip
        old.get_model("telegram", "UnreachableChat").objects.create(
            bot=bot, chat_id=501, reason="blocked", description="Forbidden: bot was blocked"
        )

    # then every row came across (the schema is the latest again here)
    migrated = Bot.objects.get()
    assert migrated.features == ["guard"]
    protections = {p.group.title: p for p in GroupProtection.objects.select_related("group")}
    assert {t: (p.enabled, p.paused_at is not None) for t, p in protections.items()} == {
        "muting": (True, False), "paused": (True, True), "off": (False, False),
    }  # fmt: skip
    assert protections["muting"].settings == {
        "mode": "mute",
        "warning": "Hey {name}, join {channels}!",
    }
    assert protections["paused"].pause_reason == PAUSED_BECAUSE
    assert sorted(MemberState.objects.values_list("user_id", "status", "checked_at")) == [
        (501, "verified", seen), (502, "restricted", seen),
    ]  # fmt: skip
    assert sorted(GroupMember.objects.values_list("user_id", "last_seen_at")) == [
        (501, seen), (502, seen),
    ]  # fmt: skip
    assert UnreachableChat.objects.get(bot=migrated).reason == "blocked"

    # and the flows act on them: the muting group keeps the message, mutes, warns in its words
    listen_to_everything(sandbox, migrated)
    world = Guarded(sandbox, migrated, owner, chats["muting"], channel, "@news")
    world.skip_pending()
    redis_client.flushdb()
    nick = world.user("Nick", subscribed=False)
    kept = world.say(nick, "hello")
    assert world.present(kept)
    assert world.status(nick) == "restricted"
    assert world.warnings()[-1]["params"]["text"] == "Hey Nick, join @news!"

    # the paused group shows its pause and members, and enforces nothing
    sandbox.set_member(chats["paused"], nick, "member")
    world.skip_pending()
    calls = len(sandbox.calls(method="restrictChatMember"))
    world.say(nick, "hello", chat=chats["paused"])
    world.say(owner, "/status", chat=chats["paused"])
    assert world.calls("sendMessage", chats["paused"])[-1]["params"]["text"] == texts.STATUS.format(
        state=texts.STATE_PAUSED.format(reason=PAUSED_BECAUSE), channels="@news",
        verified=1, restricted=1,
    )  # fmt: skip
    assert len(sandbox.calls(method="restrictChatMember")) == calls

    # and the unprotected one leaves everyone alone
    sandbox.set_member(chats["off"], nick, "member")
    world.skip_pending()
    left_alone = world.say(nick, "hello", chat=chats["off"])
    assert world.present(left_alone, chats["off"])
    assert world.status(nick, chats["off"]) == "member"
