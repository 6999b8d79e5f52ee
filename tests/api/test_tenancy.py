"""One owner's key never reads or changes another owner's rows, through any endpoint (A1).

Generic over the API: the operations come from the schema and each endpoint's model, path
parameter and references (fields.TenantRef, in its query and its body) from the view, so an
endpoint added later is tried here without a change to this file. It needs B to have a row of
its own of the endpoint's model; extend the `tenants` fixture (tests/api/conftest.py) when a new
model is served.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import pytest
from django.db import models
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.fields import ListField

from apps.api import tenancy
from apps.api.authentication import KeyHolder
from apps.api.fields import TenantRef
from apps.api.views import ScopedAPIView, unknown_endpoint
from apps.bots.models import Bot
from apps.chats.models import Group
from apps.ingress.views import telegram_webhook
from tests.api.conftest import Tenant

# Views under /api/ that serve no tenant's rows.
PUBLIC_VIEWS = {SpectacularAPIView, SpectacularSwaggerView, SpectacularRedocView}
PLAIN_VIEWS = {telegram_webhook, unknown_endpoint}
WRITES = {"post", "put", "patch", "delete"}


def operations() -> list[tuple[str, str]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return [(path, method) for path, ops in schema["paths"].items() for method in ops]


def api_views(patterns: list[Any] | None = None, prefix: str = "") -> list[tuple[str, Any]]:
    """(route, callback) of every URL under api/."""
    found = []
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            found += api_views(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern) and route.lstrip("^").startswith("api/"):
            found.append((route, pattern.callback))
    return found


def holder(tenant: Tenant) -> KeyHolder:
    return KeyHolder("test", tenant.owner.pk, is_staff=False)


def only_theirs(model: type[models.Model], theirs: Tenant, mine: Tenant) -> models.Model:
    """A row `theirs` may see and `mine` may not."""
    row = (
        tenancy.visible(model, holder(theirs))
        .exclude(pk__in=tenancy.visible(model, holder(mine)).values("pk"))
        .first()
    )
    assert row is not None, f"the tenants fixture has no {model.__name__} of B's alone: add one"
    return row


def snapshot(tenant: Tenant) -> dict[str, list[dict[str, Any]]]:
    """Every row the tenant may see, as stored."""
    return {
        model.__name__: list(tenancy.visible(model, holder(tenant)).order_by("pk").values())
        for model in tenancy.OWNER_PATHS
    }


def references(serializer_class: Any) -> dict[str, TenantRef]:
    """Each reference a request may carry, by the name its error takes: `bot`, or `groups.0`
    for the first of a list of references."""
    if serializer_class is None:
        return {}
    found = {}
    for name, declared in serializer_class().fields.items():
        if isinstance(declared, TenantRef):
            found[name] = declared
        elif isinstance(declared, ListField) and isinstance(declared.child, TenantRef):
            found[f"{name}.0"] = declared.child
    return found


def value_for(name: str, ref: TenantRef, row: models.Model) -> tuple[str, Any]:
    """The field and value that name `row` through the reference called `name`."""
    value = getattr(row, ref.to_field)
    body_field, _, index = name.partition(".")
    return body_field, [value] if index else value


@dataclass
class Attempt:
    url: str
    query: dict[str, Any] = field(default_factory=dict)
    body: dict[str, Any] | None = None
    refs: list[str] = field(default_factory=list)  # the fields naming B's row


def attempts_with_bs_rows(view: Any, path: str, method: str, a: Tenant, b: Tenant) -> list[Attempt]:
    """Every way a request to this operation names a row, each filled with a row of B's alone:
    its path parameter, then each reference in its query or body (with A's own row in the
    path, so the reference alone is what is refused)."""
    placeholders = re.findall(r"\{[^}]+\}", path)
    assert len(placeholders) <= 1, f"{path}: teach this test paths with several parameters"

    def url(tenant: Tenant, other: Tenant) -> str:
        if not placeholders:
            return path
        row = only_theirs(view.model, tenant, other)
        return path.replace(placeholders[0], str(getattr(row, view.lookup_field)))

    attempts = [Attempt(url(b, a))] if placeholders else []
    for name, ref in references(view.query_serializer).items():
        row = only_theirs(ref.model, b, a)
        attempts.append(Attempt(url(a, b), query={name: getattr(row, ref.to_field)}, refs=[name]))
    if method in WRITES:
        for name, ref in references(getattr(view, "serializer_class", None)).items():
            row = only_theirs(ref.model, b, a)
            body_field, value = value_for(name, ref, row)
            attempts.append(Attempt(url(a, b), body={body_field: value}, refs=[name]))
    return attempts


def send(client: Any, method: str, attempt: Attempt, key: str) -> Any:
    url = attempt.url + ("?" + urlencode(attempt.query) if attempt.query else "")
    if attempt.body is None:
        return getattr(client, method)(url, headers={"X-API-Key": key})
    body = json.dumps(attempt.body)
    return getattr(client, method)(
        url, body, content_type="application/json", headers={"X-API-Key": key}
    )


def test_every_view_under_api_is_scoped_or_serves_no_tenants_data():
    for route, callback in api_views():
        view = getattr(callback, "cls", None)
        if view is None:
            assert callback in PLAIN_VIEWS, f"{route}: a plain Django view under /api/"
        elif view not in PUBLIC_VIEWS:
            assert issubclass(view, ScopedAPIView), f"{route}: {view.__name__} is not scoped"
            assert view.model in tenancy.OWNER_PATHS, f"{route}: {view.model} has no tenancy"


@pytest.mark.django_db
def test_the_tenants_see_what_tenancy_promises(tenants):
    a, b = tenants
    for tenant in (a, b):
        groups = tenancy.visible(Group, holder(tenant))
        assert sorted(groups.values_list("pk", flat=True)) == sorted(g.pk for g in tenant.groups)
        assert list(tenancy.visible(Bot, holder(tenant))) == [tenant.bot]


@pytest.mark.django_db
@pytest.mark.parametrize(("path", "method"), operations())
def test_one_owners_key_never_reaches_another_owners_rows(client, tenants, path, method):
    # given owners A and B, and every way this operation lets a request name a row
    a, b = tenants
    view = resolve(re.sub(r"\{[^}]+\}", "1", path)).func.cls  # type: ignore[attr-defined]
    before = snapshot(b)

    # when A sends its own key naming a row of B's, in each of those ways
    for attempt in attempts_with_bs_rows(view, path, method, a, b):
        answer = send(client, method, attempt, a.key)

        # then B's row is not found, as a missing row would not be (a body with other errors
        # too is a 400 that still calls the reference not found)
        where = f"{method.upper()} {attempt}"
        assert answer.status_code == 404 or (attempt.body and answer.status_code == 400), where
        refused = {e["field"] for e in answer.json()["errors"] if e["code"] == "not_found"}
        assert set(attempt.refs) <= refused, where

    # and what A is shown without naming a row is A's own
    if "{" not in path and method == "get":
        answer = send(client, method, Attempt(path), a.key)
        assert answer.status_code == 200
        body = answer.json()
        rows = body.get("results", [body])
        mine = set(tenancy.visible(view.model, holder(a)).values_list("pk", flat=True))
        assert rows and {row["id"] for row in rows} <= mine

    # and nothing of B's changed
    assert snapshot(b) == before
