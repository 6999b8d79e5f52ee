from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "apps.ops"
    label = "ops"
    verbose_name = "Operations"

    def ready(self) -> None:
        from apps.ops import dashboard, metrics

        metrics.register()  # queue depths, dead letters, health: asked at each scrape
        dashboard.register_core_panels()
