from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "apps.accounts"
    label = "accounts"
    verbose_name = "Accounts and points (the bot in private chats)"

    def ready(self) -> None:
        from apps.accounts.features import ACCOUNTS
        from apps.accounts.services.accounts import note_refusal
        from apps.bots import features
        from apps.telegram import client

        features.declare(ACCOUNTS)
        # A user who blocked the bot is marked as such the first time a send is refused.
        client.on_unreachable(note_refusal)
