"""API keys (SPEC A1): hashed, shown once, revocable and expiring in the admin, in two headers."""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.admin.utils import quote
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from apps.api.models import APIKey
from tests.api.conftest import call, ids
from tests.factories import OwnerFactory

pytestmark = pytest.mark.django_db


def test_a_request_without_a_key_is_refused_with_401_saying_how_to_send_one(client):
    answer = client.get("/api/groups")

    assert answer.status_code == 401
    assert answer["WWW-Authenticate"] == "Api-Key"
    assert answer.json()["code"] == "not_authenticated"
    assert answer.json()["errors"] == []


def test_the_key_is_accepted_in_either_header(client, tenants):
    a, _ = tenants

    assert client.get("/api/groups", headers={"X-API-Key": a.key}).status_code == 200
    assert (
        client.get("/api/groups", headers={"Authorization": f"Api-Key {a.key}"}).status_code == 200
    )
    assert (
        client.get("/api/groups", headers={"Authorization": f"api-key {a.key}"}).status_code == 200
    )


@pytest.mark.parametrize(
    "headers",
    [
        {"X-API-Key": "not-a-key"},
        {"X-API-Key": "{prefix}.{wrong}"},
        {"Authorization": "Api-Key {prefix}.{wrong}"},
    ],
)
def test_a_key_that_is_not_one_is_refused_with_401(client, tenants, headers):
    # given a real key's prefix with another secret, or no key's shape at all
    a, _ = tenants
    prefix = a.key.split(".")[0]
    sent = {name: value.format(prefix=prefix, wrong="x" * 32) for name, value in headers.items()}

    answer = client.get("/api/groups", headers=sent)

    assert answer.status_code == 401
    assert answer.json() == {
        "code": "authentication_failed",
        "message": "This API key is not valid.",
        "errors": [],
    }


def test_another_authorization_scheme_is_no_key(client, tenants):
    a, _ = tenants

    answer = client.get("/api/groups", headers={"Authorization": f"Bearer {a.key}"})

    assert answer.status_code == 401
    assert answer.json()["code"] == "not_authenticated"


def test_a_key_revoked_in_the_admin_is_refused_by_its_very_next_request(
    client, admin_client, tenants
):
    # given a key in use
    a, _ = tenants
    assert call(client, a.key, "/api/groups").status_code == 200
    api_key = APIKey.objects.get(owner=a.owner)

    # when staff tick "revoked" on its page in the admin
    page = reverse("admin:api_apikey_change", args=[quote(api_key.pk)])
    saved = admin_client.post(page, {"name": api_key.name, "revoked": "on"})
    assert saved.status_code == 302, saved.content

    # then the next request with it is refused, and says why
    answer = call(client, a.key, "/api/groups")
    assert answer.status_code == 401
    assert answer.json()["message"] == "This API key has been revoked."


def test_the_admins_revoke_action_refuses_the_keys_at_once(client, admin_client, tenants):
    a, b = tenants
    assert call(client, a.key, "/api/groups").status_code == 200

    admin_client.post(
        reverse("admin:api_apikey_changelist"),
        {"action": "revoke", "_selected_action": [APIKey.objects.get(owner=a.owner).pk]},
    )

    assert call(client, a.key, "/api/groups").status_code == 401
    assert call(client, b.key, "/api/groups").status_code == 200


def test_a_key_past_the_expiry_date_set_in_the_admin_is_refused(client, admin_client, tenants):
    a, _ = tenants
    api_key = APIKey.objects.get(owner=a.owner)
    past = timezone.localtime() - timedelta(minutes=1)

    admin_client.post(
        reverse("admin:api_apikey_change", args=[quote(api_key.pk)]),
        {
            "name": api_key.name,
            "expiry_date_0": past.strftime("%Y-%m-%d"),
            "expiry_date_1": past.strftime("%H:%M:%S"),
        },
    )

    answer = call(client, a.key, "/api/groups")
    assert answer.status_code == 401
    assert answer.json()["message"] == "This API key has expired."


def created_in_admin(admin_client, form: dict[str, str]) -> str:
    """Add a key on the admin's page; the key, as the message after saving shows it."""
    answer = admin_client.post(reverse("admin:api_apikey_add"), form, follow=True)
    shown = " ".join(str(message) for message in answer.context["messages"])
    match = re.search(r"\b([A-Za-z0-9]{8}\.[A-Za-z0-9]{32})\b", shown)
    assert match, shown
    return match[1]


def test_a_key_created_in_the_admin_is_shown_once_and_speaks_for_its_owner(
    client, admin_client, tenants
):
    a, _ = tenants

    key = created_in_admin(admin_client, {"name": "from the admin", "owner": str(a.owner.pk)})

    assert APIKey.objects.get(name="from the admin").owner == a.owner
    assert sorted(ids(call(client, key, "/api/groups"))) == sorted(g.pk for g in a.groups)
    page = admin_client.get(reverse("admin:api_apikey_changelist"))
    assert key.split(".")[1] not in page.content.decode()


def test_the_admin_refuses_a_key_with_neither_owner_nor_staff(admin_client, db):
    answer = admin_client.post(reverse("admin:api_apikey_add"), {"name": "nobody's"})

    assert answer.status_code == 200  # the form again, with the error
    assert "choose one" in answer.content.decode()
    assert not APIKey.objects.exists()


def test_createapikey_prints_the_key_once_and_keeps_only_its_hash(client, tenants):
    a, _ = tenants
    out, err = StringIO(), StringIO()

    call_command(
        "createapikey", "--owner", str(a.owner.telegram_id), "--name", "crm", stdout=out, stderr=err
    )

    key = out.getvalue().strip()
    stored = APIKey.objects.get(name="crm")
    assert stored.owner == a.owner and not stored.is_staff and stored.expiry_date is None
    assert key.startswith(stored.prefix + ".")
    assert key not in err.getvalue()
    assert key.split(".")[1] not in str(APIKey.objects.filter(pk=stored.pk).values().get())
    assert call(client, key, "/api/groups").status_code == 200


def test_createapikey_makes_staff_keys_and_expiring_keys(tenants):
    call_command(
        "createapikey", "--staff", "--name", "ops", "--expires-in", "30", stdout=StringIO()
    )

    stored = APIKey.objects.get(name="ops")
    assert stored.is_staff and stored.owner is None
    assert timedelta(days=29) < stored.expiry_date - timezone.now() <= timedelta(days=30)


def test_createapikey_refuses_an_owner_it_does_not_know(db):
    with pytest.raises(CommandError, match="No owner with Telegram id 42"):
        call_command("createapikey", "--owner", "42", "--name", "typo", stdout=StringIO())
    assert not APIKey.objects.exists()


def test_a_key_belongs_to_an_owner_or_is_staff_never_both_nor_neither(db):
    owner = OwnerFactory()
    for fields in ({"owner": owner, "is_staff": True}, {"owner": None, "is_staff": False}):
        with pytest.raises(IntegrityError), transaction.atomic():
            APIKey.objects.create_key(name="wrong", **fields)


def test_no_key_is_ever_logged(client, admin_client, tenants, caplog):
    # given every path a key takes: accepted, refused, revoked, and created in the admin
    a, _ = tenants
    caplog.set_level(logging.DEBUG)
    call(client, a.key, "/api/groups")
    call(client, a.key.replace(".", ".x"), "/api/groups")
    APIKey.objects.filter(owner=a.owner).update(revoked=True)
    call(client, a.key, "/api/groups")
    created = created_in_admin(admin_client, {"name": "new", "is_staff": "on"})

    # then no log line holds a key's secret
    secrets = [a.key.split(".")[1], created.split(".")[1]]
    logged = "\n".join(f"{record.getMessage()} {record.__dict__}" for record in caplog.records)
    assert logged, "nothing was logged: the check would prove nothing"
    assert not any(secret in logged for secret in secrets)
