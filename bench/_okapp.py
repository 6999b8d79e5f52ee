"""The ceiling for bench/ingress.py: a bare WSGI app answering "ok" under the same gunicorn."""

from collections.abc import Callable
from typing import Any


def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    body = b'{"ok":true}'
    length = int(environ.get("CONTENT_LENGTH") or 0)
    if length:
        environ["wsgi.input"].read(length)
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", "11")])
    return [body]
