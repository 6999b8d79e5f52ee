from django.apps import AppConfig


class ChatsConfig(AppConfig):
    name = "apps.chats"
    label = "chats"
    verbose_name = "Groups and channels"

    def ready(self) -> None:
        from apps.bots import features
        from apps.chats import services
        from apps.chats.features import CORE
        from apps.telegram import client

        features.declare(CORE)

        # What Telegram's answers mean for the rows this app keeps (the client knows no rows).
        client.on_unreachable(services.note_refusal)
        client.on_migrated(services.follow_migration)
