# The guard's state used to live in apps.chats: Group.enabled/params/paused_at/pause_reason and
# GroupMember.status/checked_at. Copy every row over, with its times, in one statement each (no
# rows pass through Python); chats.0004 then drops the old columns. Every group of that time was
# a guard group, so each gets its protection row, enabled as the group was.
# Reversed, the values are copied back (chats.0004's reversal has re-added the columns first);
# a group is enabled again only if it was and its protection was on, as the one flag meant then.

from django.db import migrations

FORWARD = (
    """
    INSERT INTO guard_groupprotection
        (group_id, enabled, settings, paused_at, pause_reason, created_at, updated_at)
    SELECT id, enabled, params, paused_at, pause_reason, created_at, updated_at
    FROM chats_group
    """,
    """
    INSERT INTO guard_memberstate (group_id, user_id, status, checked_at, created_at)
    SELECT group_id, user_id, status, checked_at, created_at
    FROM chats_groupmember
    """,
)

BACKWARD = (
    """
    UPDATE chats_group SET
        enabled = chats_group.enabled AND p.enabled,
        params = p.settings, paused_at = p.paused_at, pause_reason = p.pause_reason
    FROM guard_groupprotection p
    WHERE p.group_id = chats_group.id
    """,
    """
    UPDATE chats_groupmember SET status = s.status, checked_at = s.checked_at
    FROM guard_memberstate s
    WHERE s.group_id = chats_groupmember.group_id AND s.user_id = chats_groupmember.user_id
    """,
)


class Migration(migrations.Migration):
    dependencies = [
        ("guard", "0001_initial"),
        ("chats", "0003_unreachablechat"),
    ]

    operations = [migrations.RunSQL(FORWARD, reverse_sql=BACKWARD)]
