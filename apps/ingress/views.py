from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from apps.ingress import webhook

SECRET_HEADER = "HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN"  # noqa: S105 - a header name


@csrf_exempt
def telegram_webhook(request: HttpRequest) -> HttpResponse:
    """POST /api/webhooks/telegram through Django (gunicorn serves it via apps.ingress.wsgi)."""
    answer = webhook.receive(
        request.method or "",
        request.META.get(SECRET_HEADER),
        request.META.get("CONTENT_LENGTH"),
        request.read,
    )
    response = HttpResponse(answer.body(), status=answer.status, content_type="application/json")
    if answer.status == 405:
        response["Allow"] = "POST"
    return response
