from django.apps import AppConfig


class GrowthConfig(AppConfig):
    name = "apps.growth"
    label = "growth"
    verbose_name = "Growth management (phases, join queue, member counts)"

    def ready(self) -> None:
        from apps.bots import features
        from apps.growth import dashboard
        from apps.growth.features import GROWTH

        features.declare(GROWTH)
        dashboard.register_panels()
