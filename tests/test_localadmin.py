"""`manage.py localadmin`: the local admin login `make up` prints, from .env, DEBUG only."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def localadmin() -> str:
    out = io.StringIO()
    call_command("localadmin", stdout=out)
    return out.getvalue().strip()


@pytest.fixture
def local_login(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DJANGO_SUPERUSER_USERNAME", "admin")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "gmbot-local")


def test_localadmin_creates_the_login_once_and_keeps_an_existing_one(local_login, settings):
    settings.DEBUG = True

    assert localadmin() == "Created the admin login admin."
    user = get_user_model().objects.get(username="admin")
    assert user.is_superuser and user.check_password("gmbot-local")
    user.set_password("changed-by-hand")
    user.save()

    assert localadmin() == "The admin login admin exists already."
    assert get_user_model().objects.get(username="admin").check_password("changed-by-hand")


def test_localadmin_makes_no_login_with_debug_off(local_login, settings):
    settings.DEBUG = False

    assert localadmin().startswith("DEBUG is off, so no login is made from .env")
    assert not get_user_model().objects.exists()
