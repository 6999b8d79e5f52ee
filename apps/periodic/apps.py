from django.apps import AppConfig


class PeriodicConfig(AppConfig):
    name = "apps.periodic"
    label = "periodic"
    verbose_name = "Periodic messages"

    def ready(self) -> None:
        from apps.bots import features
        from apps.periodic import (
            dashboard,
            signals,  # noqa: F401 - connects the receivers
        )
        from apps.periodic.features import PERIODIC

        features.declare(PERIODIC)
        dashboard.register_panels()
