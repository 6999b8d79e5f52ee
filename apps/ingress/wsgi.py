"""The webhook path served straight from WSGI, everything else by Django.

Telegram's deliveries are the hot path (SPEC W4: answer within milliseconds). Django's handler adds
middleware, URL resolving and request signals that the webhook does not use (it reads no session,
no user, no CSRF token, and its one query, on a cache miss, looks after its own connection), and on
this kind of machine they cost as much as the work itself. The decision stays in
`webhook.receive()`, shared with the Django view.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings

from apps.ingress import webhook
from apps.ingress.views import SECRET_HEADER

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

_STATUS = {
    200: "200 OK",
    400: "400 Bad Request",
    401: "401 Unauthorized",
    405: "405 Method Not Allowed",
    413: "413 Content Too Large",
    503: "503 Service Unavailable",
}


def with_webhook(django_app: WSGIApp) -> WSGIApp:
    path = settings.WEBHOOK_PATH

    def application(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != path:
            return django_app(environ, start_response)
        stream = environ["wsgi.input"]
        length = environ.get("CONTENT_LENGTH")
        if not length and not environ.get("wsgi.input_terminated"):
            length = "0"  # only a server that ends the input itself may be read without a length
        answer = webhook.receive(
            environ.get("REQUEST_METHOD", ""), environ.get(SECRET_HEADER), length, stream.read
        )
        body = answer.body()
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        if answer.status == 405:
            headers.append(("Allow", "POST"))
        start_response(_STATUS[answer.status], headers)
        return [body]

    return application
