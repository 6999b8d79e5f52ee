from django.apps import AppConfig


class TelegramConfig(AppConfig):
    name = "apps.telegram"
    label = "telegram"
    verbose_name = "Telegram client"

    def ready(self) -> None:
        from apps.telegram import client

        client.configure()
