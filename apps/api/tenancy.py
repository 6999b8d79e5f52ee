"""Which rows an API key may see: the one definition every endpoint's queries go through.

An owner's key sees the bots it owns, and the groups it owns or that one of its bots manages (a
bot's owner answers for everything the bot does: a broadcast goes to every group of a bot). A
staff key sees everything. A model missing here cannot be served by the API at all: `visible()`
refuses it, and tests/api/test_tenancy.py fails for any endpoint whose model is not listed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from django.db import models
from django.db.models import Q

from apps.bots.models import Bot, Owner
from apps.broadcasts.models import Broadcast
from apps.chats.models import Group
from apps.live.models import LiveEntry

if TYPE_CHECKING:
    from apps.api.authentication import KeyHolder

M = TypeVar("M", bound=models.Model)

# For each model the API serves, the paths from a row to an Owner; a row is an owner's when
# any of them leads to that owner.
OWNER_PATHS: dict[type[models.Model], tuple[str, ...]] = {
    Bot: ("owner",),
    Group: ("owner", "bot__owner"),
    # A staff key names the owner of a live entry by its Telegram id; an owner's key only itself.
    Owner: ("pk",),
    LiveEntry: ("owner",),
    # A broadcast is its bot's: only the bot's owner reads, starts or deletes it.
    Broadcast: ("bot__owner",),
}


def visible(model: type[M], holder: KeyHolder) -> models.QuerySet[M]:
    """Every row of `model` the key may read or change."""
    rows = model._default_manager.all()
    if holder.is_staff:
        return rows
    paths = OWNER_PATHS[model]  # KeyError: a model the API was never told how to scope
    if holder.owner_id is None:
        # Never "owner IS NULL": a key with neither owner nor staff (the database forbids one)
        # must see nothing rather than every ownerless row.
        return rows.none()
    condition = Q()
    for path in paths:
        condition |= Q(**{path: holder.owner_id})
    return rows.filter(condition)
