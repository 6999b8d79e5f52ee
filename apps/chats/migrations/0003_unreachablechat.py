# UnreachableChat moves from apps.telegram (which now keeps no rows) to apps.chats. The table and
# its rows stay: the model is created here in Django's state only, over the existing table, and
# the table is then renamed to this app's name. telegram.0002 drops the old model from the state.

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("bots", "0001_initial"),
        ("chats", "0002_guard_pause_and_members"),
        ("telegram", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="UnreachableChat",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        (
                            "chat_id",
                            models.BigIntegerField(
                                help_text="Telegram chat id; a user's id for private chats"
                            ),
                        ),
                        (
                            "reason",
                            models.CharField(
                                choices=[
                                    ("blocked", "blocked by the user"),
                                    ("kicked", "bot kicked from the chat"),
                                    ("not_member", "bot not a member"),
                                    ("deactivated", "user deactivated"),
                                    ("not_started", "user never started the bot"),
                                    ("is_bot", "the user is a bot"),
                                    ("forbidden", "other Forbidden answer"),
                                ],
                                max_length=16,
                            ),
                        ),
                        (
                            "description",
                            models.CharField(help_text="Telegram's own words", max_length=255),
                        ),
                        ("marked_at", models.DateTimeField(default=django.utils.timezone.now)),
                        (
                            "bot",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="unreachable_chats",
                                to="bots.bot",
                            ),
                        ),
                    ],
                    options={
                        "ordering": ["-marked_at"],
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("bot", "chat_id"), name="unreachable_unique_bot_chat"
                            )
                        ],
                        "db_table": "telegram_unreachablechat",
                    },
                ),
            ],
        ),
        migrations.AlterModelTable(name="unreachablechat", table=None),
    ]
