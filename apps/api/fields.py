"""Fields that take exactly what the schema says, so a value the schema calls invalid is refused.

DRF's own fields are lenient: IntegerField takes "1.0" and " 1 ", BooleanField takes "yes", "on"
and 1. The schema says integer and boolean, and the fuzz run (schemathesis) holds the API to it.
"""

from __future__ import annotations

import re
from typing import Any

from django.db import models
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail
from rest_framework.fields import empty

from apps.api import tenancy
from apps.api.errors import NOT_FOUND

INT64_MAX = 2**63 - 1  # PostgreSQL's bigint: a larger id would fail in the query, not here
_INTEGER = re.compile(r"-?[0-9]+")


class StrictIntegerField(serializers.IntegerField):
    def to_internal_value(self, data: Any) -> int:
        whole = (isinstance(data, int) and not isinstance(data, bool)) or (
            isinstance(data, str) and _INTEGER.fullmatch(data) is not None
        )
        if not whole:
            self.fail("invalid")
        return int(super().to_internal_value(data))


class StrictBooleanField(serializers.BooleanField):
    default_error_messages = {"invalid": "Must be true or false."}
    # DRF treats a boolean missing from a form or query string as false; missing means not given.
    default_empty_html = empty

    def to_internal_value(self, data: Any) -> bool:
        if data is True or data == "true":
            return True
        if data is False or data == "false":
            return False
        self.fail("invalid")


class TenantRef(StrictIntegerField):
    """A row named by its public id (`to_field`), given as a query parameter or body field;
    validation returns the row. A row the key may not see (tenancy.visible) is refused exactly
    like a missing one, with code not_found, which the API answers with 404.

    Every reference to a tenant's row in a request goes through this field: the tenancy test
    finds them by this class and tries another owner's rows in each."""

    default_error_messages = {NOT_FOUND: "No {model} {value} among this key's."}

    def __init__(self, model: type[models.Model], to_field: str = "pk", **kwargs: Any) -> None:
        self.model = model
        self.to_field = to_field
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", INT64_MAX)
        super().__init__(**kwargs)

    def run_validation(self, data: Any = empty) -> Any:
        # After the id's own checks (type, bounds), which a lookup must not precede.
        value = super().run_validation(data)
        rows = tenancy.visible(self.model, self.context["request"].user)
        row = rows.filter(**{self.to_field: value}).first()
        if row is None:
            self.fail(NOT_FOUND, model=self.model._meta.verbose_name, value=value)
        return row


class TenantRefList(serializers.ListField):
    """A list of TenantRef ids (the child, for the schema and the tenancy test), looked up in one
    query however long the list: each id is checked as TenantRef checks one, and each row the key
    may not see is refused with code not_found, named by its index (`groups.3`)."""

    child: TenantRef

    def __init__(self, model: type[models.Model], to_field: str = "pk", **kwargs: Any) -> None:
        super().__init__(child=TenantRef(model, to_field=to_field), **kwargs)

    def run_child_validation(self, data: list[Any]) -> list[Any]:
        ref = self.child
        values: dict[int, Any] = {}
        errors: dict[str, Any] = {}  # by index, as DRF's ListField names them
        for index, item in enumerate(data):
            try:
                # The id's own checks (type, bounds), without TenantRef's lookup.
                values[index] = StrictIntegerField.run_validation(ref, item)
            except serializers.ValidationError as exc:
                errors[str(index)] = exc.detail
        if errors:
            raise serializers.ValidationError(errors)
        rows = tenancy.visible(ref.model, self.context["request"].user)
        found = {
            getattr(row, ref.to_field): row
            for row in rows.filter(**{f"{ref.to_field}__in": set(values.values())})
        }
        for index, value in values.items():
            if value not in found:
                message = ref.error_messages[NOT_FOUND].format(
                    model=ref.model._meta.verbose_name, value=value
                )
                errors[str(index)] = [ErrorDetail(message, code=NOT_FOUND)]
        if errors:
            raise serializers.ValidationError(errors)
        return [found[value] for value in values.values()]
