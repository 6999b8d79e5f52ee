from django.apps import AppConfig
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class ApiConfig(AppConfig):
    name = "apps.api"
    label = "api"
    verbose_name = "REST API"

    def ready(self) -> None:
        from apps.api import schema  # noqa: F401 - registers the key scheme with drf-spectacular
        from apps.api.throttling import parse_rate

        # A wrong rate should stop the process at start, not fail the first request.
        if settings.API_THROTTLE_RATE:
            try:
                parse_rate(settings.API_THROTTLE_RATE)
            except ValueError as exc:
                raise ImproperlyConfigured(str(exc)) from None
