# The guard's decisions leave the shared tables: guard.0002 has copied them into the guard's own
# (GroupProtection, MemberState). Group.enabled stays: it is the platform's switch for a group.

import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("chats", "0003_unreachablechat"),
        ("guard", "0002_carry_state_over_from_chats"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="groupmember", name="member_group_status_idx"),
        migrations.RemoveField(model_name="group", name="params"),
        migrations.RemoveField(model_name="group", name="pause_reason"),
        migrations.RemoveField(model_name="group", name="paused_at"),
        # Defaults for the way back only: reversed, the columns are re-added on a table with
        # rows and need a value until guard.0002's reversal copies the real ones back.
        migrations.AlterField(
            model_name="groupmember",
            name="checked_at",
            field=models.DateTimeField(default=django.utils.timezone.now),
        ),
        migrations.AlterField(
            model_name="groupmember",
            name="status",
            field=models.CharField(
                choices=[("verified", "verified"), ("restricted", "restricted")],
                default="verified",
                max_length=16,
            ),
        ),
        migrations.RemoveField(model_name="groupmember", name="checked_at"),
        migrations.RemoveField(model_name="groupmember", name="status"),
    ]
