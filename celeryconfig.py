"""All Celery configuration in one place: queues, routes, beat entries and worker defaults.

Loaded by `gmbot/celery.py` with `config_from_object("celeryconfig")`.
"""

from __future__ import annotations

from celery.schedules import crontab
from kombu import Queue

from gmbot.env import env, envint

# The three priority queues (SPEC Architecture). Declared once; nothing creates others.
HIGH = "high"  # a person is waiting: commands, callbacks, join requests, enforcement
NORMAL = "normal"  # scheduled sends, periodic messages, state transitions
LOW = "low"  # bulk: broadcast fan-out, kicking, member counts, batch verification, clean-ups
QUEUE_NAMES = (HIGH, NORMAL, LOW)

broker_url = env("CELERY_BROKER_URL") or env("REDIS_URL", "redis://127.0.0.1:6379/0")
result_backend = env("CELERY_RESULT_BACKEND") or env("REDIS_URL", "redis://127.0.0.1:6379/0")
broker_connection_retry_on_startup = True
# Redis redelivers an unacknowledged message after this long, so it must outlive the longest
# countdown/ETA the project schedules (rate-limit waits and backoffs stay well under an hour).
broker_transport_options = {"visibility_timeout": envint("CELERY_VISIBILITY_TIMEOUT", 4 * 3600)}

imports = tuple(f"tasks.{name}" for name in QUEUE_NAMES)
task_queues = tuple(Queue(name, routing_key=name) for name in QUEUE_NAMES)
task_default_queue = NORMAL
task_create_missing_queues = False
# Tasks live in tasks/high.py, tasks/normal.py and tasks/low.py: the module names the queue.
task_routes = {f"tasks.{name}.*": {"queue": name, "routing_key": name} for name in QUEUE_NAMES}

task_serializer = "json"
result_serializer = "json"
accept_content = ["json"]
task_ignore_result = True  # tasks record their effects in PostgreSQL; results are opt-in
result_expires = 3600

# A job is acknowledged only once it has run, and a worker lost mid-job hands it back.
task_acks_late = True
task_reject_on_worker_lost = True
worker_prefetch_multiplier = 1
worker_cancel_long_running_tasks_on_connection_loss = True
task_soft_time_limit = envint("CELERY_TASK_SOFT_TIME_LIMIT", 60)
task_time_limit = envint("CELERY_TASK_TIME_LIMIT", 90)
worker_max_tasks_per_child = envint("CELERY_MAX_TASKS_PER_CHILD", 10000)
worker_send_task_events = True  # Flower shows tasks live

# Celery's Django fix-up closes the database connection after every task unless this is set;
# reconnecting costs more than the task itself for short jobs (measured ~200/s vs ~670/s).
CELERY_DB_REUSE_MAX = envint("CELERY_DB_REUSE_MAX", 1000)

beat_scheduler = "django_celery_beat.schedulers:DatabaseScheduler"
# Declared here, stored and editable in django-celery-beat's tables (the DatabaseScheduler
# copies these entries in when beat starts). Each entry expires before its next run.
beat_schedule = {
    # Daily: the admin's expired sessions pile up in PostgreSQL otherwise.
    "clear-expired-sessions": {
        "task": "tasks.low.clear_expired_sessions",
        "schedule": crontab(minute=17, hour=3),
        "options": {"expires": 23 * 3600},
    },
    # Hourly: webhook dedup rows written while Redis was down are kept a day (SPEC W2).
    "purge-seen-updates": {
        "task": "tasks.low.purge_seen_updates",
        "schedule": crontab(minute=7),
        "options": {"expires": 50 * 60},
    },
    # Every 5 minutes: operators hear about a queue whose dead letters pile up (SPEC Q4); the
    # task itself keeps it to one alert per queue per hour.
    "alert-on-dead-letters": {
        "task": "tasks.normal.alert_on_dead_letters",
        "schedule": crontab(minute="*/5"),
        "options": {"expires": 4 * 60},
    },
    # Daily: replayed and discarded dead letters are kept 30 days for the record, then purged.
    "purge-dead-letters": {
        "task": "tasks.low.purge_dead_letters",
        "schedule": crontab(minute=47, hour=3),
        "options": {"expires": 23 * 3600},
    },
    # Every 20 minutes: recently active members of protected groups are checked again, in case
    # a channel leave was never reported (SPEC G11). Each run is capped (200 members, 30 s) and
    # draws on the bulk budget, so interactive work keeps its room; off-peak it simply finds
    # fewer members to check.
    "verify-recent-members": {
        "task": "tasks.low.verify_recent_members",
        "schedule": crontab(minute="*/20"),
        "options": {"expires": 19 * 60},
    },
    # Every minute: a broadcast whose jobs were lost (every worker killed, say) is picked up
    # again (SPEC B6); `low` workers also ask for this as they start. Cheap when nothing stalled.
    "resume-broadcasts": {
        "task": "tasks.normal.resume_broadcasts",
        "schedule": crontab(minute="*"),
        "options": {"expires": 50},
    },
}
