"""schemathesis against the served schema, in-process: no answer is a 500, every answer (status,
headers, body) is the one the schema documents, valid requests are accepted and invalid ones
refused (SPEC A2). Bounded so it runs in seconds; throttling is off for it alone.

The schema is read when the module is collected (Django is set up by then, and serving the
schema touches no database). schemathesis.pytest.from_fixture would defer that to a fixture, but
it sets `Node._nodeid`, which pytest 9.2 no longer has.
"""

from __future__ import annotations

from collections.abc import Iterator

import hypothesis
import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections

from gmbot.wsgi import application

EXAMPLES_PER_OPERATION = 40

schema = schemathesis.openapi.from_wsgi("/api/schema", application)


@pytest.fixture
def wsgi_keeps_the_test_connection() -> Iterator[None]:
    """What Django's test client does around each request: the WSGI handler would otherwise
    close the database connection at the end of a request, since it sits in the test's
    transaction, and the next request would find it closed."""
    for signal in (signals.request_started, signals.request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (signals.request_started, signals.request_finished):
        signal.connect(close_old_connections)


@schema.parametrize()
@hypothesis.settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    derandomize=True,
    # The database fixture is shared by the examples of an operation on purpose: the rows of
    # two tenants are what the requests read.
    suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture],
)
def test_every_answer_matches_the_schema(case, tenants, settings, wsgi_keeps_the_test_connection):
    settings.API_THROTTLE_RATE = ""
    a, _ = tenants
    case.call_and_validate(headers={"X-API-Key": a.key})
