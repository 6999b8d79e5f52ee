# The model now lives in apps.chats (chats.0003 took over its table); only Django's state forgets
# it here, the database is left alone.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("telegram", "0001_initial"),
        ("chats", "0003_unreachablechat"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="UnreachableChat")],
        ),
    ]
