"""One error shape for the whole API: each 4xx says what is wrong and, for fields, which."""

from __future__ import annotations

import pytest
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from apps.api.errors import exception_handler
from apps.api.fields import StrictBooleanField, StrictIntegerField
from apps.api.serializers import StrictSerializer
from tests.api.conftest import call

pytestmark = pytest.mark.django_db


def test_a_path_under_api_that_is_no_endpoint_answers_the_apis_404(client):
    answer = client.post("/api/grups", {"a": 1})

    assert answer.status_code == 404
    assert answer.json() == {
        "code": "not_found",
        "message": "No such endpoint; the API is described at /api/docs.",
        "errors": [],
    }


def test_a_method_the_endpoint_lacks_is_a_405_naming_the_allowed_ones(client, tenants):
    a, _ = tenants

    answer = call(client, a.key, "/api/groups?bot=1", method="delete")

    assert answer.status_code == 405
    assert answer["Allow"] == "GET, HEAD"
    assert answer.json()["code"] == "method_not_allowed"


class Target(StrictSerializer):
    chat_id = StrictIntegerField()


class Broadcast(StrictSerializer):
    """A body of the kind later endpoints take: nested, with a list of objects."""

    text = serializers.CharField()
    pin = StrictBooleanField(required=False)
    targets = Target(many=True)


def test_unknown_body_fields_are_refused_by_name_at_every_level_with_the_other_errors():
    body = {"text": "hi", "pinned": True, "targets": [{"chat_id": 1}, {"chat_id": "x", "id": 2}]}

    serializer = Broadcast(data=body)

    assert not serializer.is_valid()
    answer = exception_handler(ValidationError(serializer.errors), {})
    assert answer is not None and answer.status_code == 400
    assert [(e["field"], e["code"]) for e in answer.data["errors"]] == [
        ("targets.1.chat_id", "invalid"),
        ("targets.1.id", "unknown"),
        ("pinned", "unknown"),
    ]
    assert "this endpoint takes: text, pin, targets" in answer.data["errors"][2]["message"]


@pytest.mark.parametrize("value", [1, "yes", "True", None])
def test_a_body_boolean_is_true_or_false_and_nothing_else(value):
    serializer = Broadcast(data={"text": "hi", "pin": value, "targets": []})

    assert not serializer.is_valid()
    assert list(serializer.errors) == ["pin"]


def test_an_error_about_the_whole_body_has_no_field():
    answer = exception_handler(ValidationError({"non_field_errors": ["Give text or a photo."]}), {})

    assert answer is not None
    assert answer.data == {
        "code": "invalid",
        "message": "Give text or a photo.",
        "errors": [{"field": None, "code": "invalid", "message": "Give text or a photo."}],
    }
