"""The OpenAPI schema at /api/schema and its viewers, served from our own static files (A2)."""

from __future__ import annotations

import re
from io import StringIO
from urllib.parse import urlsplit

import pytest
import yaml
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.management import call_command

from apps.api.errors import ErrorSerializer


@pytest.fixture
def schema(client) -> dict:
    answer = client.get("/api/schema", headers={"Accept": "application/vnd.oai.openapi+json"})
    assert answer.status_code == 200
    return answer.json()


def test_the_schema_is_valid_openapi_3_and_generates_without_a_warning():
    out = StringIO()

    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out)

    assert yaml.safe_load(out.getvalue())["openapi"].startswith("3.")


def test_the_schema_holds_the_api_and_not_the_webhook_nor_itself(schema):
    assert "/api/groups" in schema["paths"]
    assert not [path for path in schema["paths"] if not path.startswith("/api/")]
    assert settings.WEBHOOK_PATH not in schema["paths"]
    assert not {"/api/schema", "/api/docs", "/api/redoc"} & set(schema["paths"])


def test_every_operation_documents_its_errors_in_the_one_shape_and_both_key_headers(schema):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            where = f"{method.upper()} {path}"
            responses = operation["responses"]
            assert {"400", "401", "404", "429"} <= set(responses), where
            for status, response in responses.items():
                if status.startswith(("4", "5")):
                    body = response["content"]["application/json"]["schema"]
                    assert body == {"$ref": "#/components/schemas/Error"}, where
            assert "Retry-After" in responses["429"]["headers"], where
            assert operation["security"] == [{"ApiKeyHeader": []}, {"ApiKeyAuthorization": []}]
    schemes = schema["components"]["securitySchemes"]
    assert schemes["ApiKeyHeader"] == {"type": "apiKey", "in": "header", "name": "X-API-Key"}
    assert schemes["ApiKeyAuthorization"]["name"] == "Authorization"
    assert set(schema["components"]["schemas"]["Error"]["properties"]) == set(
        ErrorSerializer().fields
    )


@pytest.mark.parametrize("page", ["/api/docs", "/api/redoc"])
def test_the_viewers_load_nothing_from_another_host(client, page):
    # given the Swagger UI or ReDoc page
    answer = client.get(page)
    assert answer.status_code == 200
    html = answer.content.decode()

    # then every address in it is on this site, and every static file it names is shipped here
    addresses = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html)
    addresses += re.findall(r"""(?:https?:)?//[^\s"'<>)]+""", html)
    assert addresses
    assert not [address for address in addresses if urlsplit(address).netloc]
    paths = [urlsplit(address).path for address in addresses]
    statics = [
        p.removeprefix(settings.STATIC_URL) for p in paths if p.startswith(settings.STATIC_URL)
    ]
    assert statics
    assert all(finders.find(path) for path in statics), statics


@pytest.mark.parametrize("char", ["\x1c", "\x1e", "\x1f", "\x85", "\ufeff", "\xa0", " "])
def test_a_link_is_refused_for_a_character_either_regex_dialect_calls_a_space(char):
    # Python's \s and JavaScript's (the schema's) disagree on these: the pattern names them all,
    # so a link the schema calls valid is never refused (the fuzz run found \x1e).
    from django.core.exceptions import ValidationError

    from apps.api.broadcasts import LINK

    LINK("https://example.org/path")
    with pytest.raises(ValidationError):
        LINK(f"https://example.org/a{char}b")
