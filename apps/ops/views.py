from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from apps.ops import access, services
from celeryconfig import QUEUE_NAMES
from gmbot import metrics_files


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


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus's scrape (SPEC O2): from allowed addresses or with the token (access.py)."""
    if not metrics_files.ENABLED:
        return HttpResponse("metrics are off (METRICS_ENABLED=0)\n", status=404,
                            content_type="text/plain")  # fmt: skip
    if not access.may_read_metrics(request):
        return HttpResponse(
            "forbidden: not an address METRICS_ALLOWED_IPS allows, and no valid "
            "Authorization: Bearer token\n",
            status=403,
            content_type="text/plain",
        )
    from prometheus_client import CONTENT_TYPE_LATEST

    from apps.ops.metrics import exposition

    return HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST)


def staff_json(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Staff only, answered in JSON: 403 rather than the admin's redirect to its login page."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if not (user.is_authenticated and user.is_active and user.is_staff):
            return JsonResponse({"error": "staff only"}, status=403)
        return view(request, *args, **kwargs)

    return wrapper


@require_GET
@staff_json
def dead_letter_queues(request: HttpRequest) -> JsonResponse:
    """`GET /admin/dlq/`: every queue with its dead letters per status, and where to list them."""
    return JsonResponse(
        {
            "queues": [
                {
                    "queue": queue,
                    "counts": services.dead_letter_counts(queue),
                    "url": reverse("dlq-list", args=[queue]),
                    "replay_url": reverse("dlq-replay", args=[queue]),
                }
                for queue in QUEUE_NAMES
            ]
        }
    )


@require_GET
@staff_json
def dead_letters(request: HttpRequest, queue: str) -> JsonResponse:
    """`GET /admin/dlq/<queue>/?status=dead|replayed|discarded|all&page=&per_page=`."""
    try:
        services.check_queue(queue)
        status, page, per_page = services.check_listing(request.GET)
    except services.UnknownQueue as exc:
        return JsonResponse({"error": str(exc)}, status=404)
    except services.InvalidRequest as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    return JsonResponse(services.list_dead_letters(queue, status, page, per_page))


@require_POST
@staff_json
def replay_dead_letters(request: HttpRequest, queue: str) -> JsonResponse:
    """`POST /admin/dlq/<queue>/replay` with `{"ids": [...]}` or `{"all": true}`.

    CSRF protection stays on: this is a staff session endpoint, driven from the browser.
    """
    try:
        services.check_queue(queue)
        try:
            body = json.loads(request.body)
        except ValueError:
            raise services.InvalidRequest("the body must be JSON") from None
        selection = services.check_replay_request(body)
    except services.UnknownQueue as exc:
        return JsonResponse({"error": str(exc)}, status=404)
    except services.InvalidRequest as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    return JsonResponse(services.do_replay(queue, selection).as_dict())
