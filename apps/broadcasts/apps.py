from django.apps import AppConfig


class BroadcastsConfig(AppConfig):
    name = "apps.broadcasts"
    label = "broadcasts"
    verbose_name = "Broadcasts"

    def ready(self) -> None:
        from apps.bots import features
        from apps.broadcasts import dashboard, signals  # noqa: F401 - signals: worker_ready
        from apps.broadcasts.features import BROADCASTS

        features.declare(BROADCASTS)
        dashboard.register_panels()
