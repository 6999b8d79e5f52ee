from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from apps.ops import services


@require_GET
def live(request: HttpRequest) -> JsonResponse:
    """The process answers (liveness)."""
    return JsonResponse({"status": "ok"})


@require_GET
def ready(request: HttpRequest) -> JsonResponse:
    """The process can serve: its database and Redis answer (readiness)."""
    ok = services.check_database() and services.check_redis()
    return JsonResponse({"status": "ok" if ok else "unavailable"}, status=200 if ok else 503)


@require_GET
def health(request: HttpRequest) -> JsonResponse:
    report = services.health()
    return JsonResponse(report, status=200 if report["status"] == "ok" else 503)
