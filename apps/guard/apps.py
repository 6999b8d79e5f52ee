from django.apps import AppConfig


class GuardConfig(AppConfig):
    name = "apps.guard"
    label = "guard"
    verbose_name = "Channel-subscription enforcement"

    def ready(self) -> None:
        from apps.bots import features
        from apps.guard import (
            dashboard,
            signals,  # noqa: F401 - connects the receivers
        )
        from apps.guard.features import GUARD
        from gmbot import metrics

        features.declare(GUARD)
        dashboard.register_panels()
        metrics.on_scrape(dashboard.cache_counts)
