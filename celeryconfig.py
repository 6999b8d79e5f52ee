"""All Celery configuration in one place: queues, routes, beat entries and worker defaults.

Loaded by `gmbot/celery.py` with `config_from_object("celeryconfig")`.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from celery.schedules import crontab
from kombu import Queue

from gmbot.env import env, envbool, envint

# The three priority queues (SPEC Architecture). Declared once; nothing creates others.
HIGH = "high"  # a person is waiting: commands, callbacks, join requests, enforcement
NORMAL = "normal"  # scheduled sends, periodic messages, state transitions
LOW = "low"  # bulk: broadcast fan-out, kicking, member counts, batch verification, clean-ups
QUEUE_NAMES = (HIGH, NORMAL, LOW)

broker_url = env("CELERY_BROKER_URL") or env("REDIS_URL", "redis://127.0.0.1:6379/0")
result_backend = env("CELERY_RESULT_BACKEND") or env("REDIS_URL", "redis://127.0.0.1:6379/0")
broker_connection_retry_on_startup = True
# kombu's Redis transport keeping one client per channel (gmbot/broker.py); others keep theirs.
if urlsplit(broker_url).scheme in ("redis", "rediss"):
    broker_transport = "gmbot.broker:Transport"

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

# Redis hands a job delivered to a worker but not acknowledged to another worker after this
# long: how long the jobs of a worker that died (kill -9, a lost host) wait to run elsewhere.
VISIBILITY_TIMEOUT = envint("CELERY_VISIBILITY_TIMEOUT", 600)
# So every job must be acknowledged within it, or it runs twice. A job may be held until it is
# due, wait for a free child (one time limit) and run (another): a hold may take half of what the
# two time limits leave, the other half is the margin. Longer waits are re-published in hops of
# at most this many seconds (tasks/base.py, GMTask.apply_async).
MAX_HELD_COUNTDOWN = (VISIBILITY_TIMEOUT - 2 * task_time_limit) // 2
if MAX_HELD_COUNTDOWN < 1:
    raise ValueError(
        "CELERY_VISIBILITY_TIMEOUT must exceed twice CELERY_TASK_TIME_LIMIT by at least 2 seconds"
    )
broker_transport_options = {
    "visibility_timeout": VISIBILITY_TIMEOUT,
    # kombu looks for jobs past their visibility timeout every interval x throttle seconds
    # (100 s by default); every 10 s here (less for a short timeout), so a lost worker's jobs
    # run again within the visibility timeout and seconds.
    "unacked_restore_interval": max(1, min(10, VISIBILITY_TIMEOUT // 10)),
    "unacked_restore_throttle": 1,
}
# How long a worker remembers an update it finished (apps/ingress/dispatch.py), so a job that
# comes back after all runs no handler twice: longer than any redelivery takes (the visibility
# timeout, then the queue's backlog, for which an hour is allowed).
DONE_MARK_SECONDS = VISIBILITY_TIMEOUT + 3600
worker_max_tasks_per_child = envint("CELERY_MAX_TASKS_PER_CHILD", 10000)
# Task events (Flower's live view of jobs) cost each job three messages to Redis, a tenth of the
# `high` worker's CPU at 6,000 updates/min: the Procfile turns them on (-E) for normal and low.
worker_send_task_events = envbool("CELERY_TASK_EVENTS", False)

# Celery's Django fix-up closes the database connection after every task unless this is set;
# reconnecting costs more than the task itself for short jobs (measured ~200/s vs ~670/s).
CELERY_DB_REUSE_MAX = envint("CELERY_DB_REUSE_MAX", 1000)

# Member counts (SPEC M5) are refreshed every this many minutes (a divisor of 60), each group at
# its own offset in the interval.
GROWTH_COUNT_MINUTES = envint("GROWTH_COUNT_MINUTES", 15)

# django-celery-beat's DatabaseScheduler, sending only while it holds a leader lease in Redis, so
# a second beat (a rolling deploy, a second replica) sends nothing twice (gmbot/beat.py). A beat
# that dies is replaced by another within the lease.
beat_scheduler = "gmbot.beat:LeaderScheduler"
BEAT_LEADER_LEASE_SECONDS = envint("BEAT_LEADER_LEASE_SECONDS", 30)
# Each run's time is written at once, so a beat that takes over knows what already ran.
beat_sync_every = 1
# Declared here, stored and editable in django-celery-beat's tables (the DatabaseScheduler
# copies these entries in when beat starts). Each entry expires before its next run.
ACTIVITY_FLUSH_SECONDS = envint("ACTIVITY_FLUSH_SECONDS", 5)
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
    # Every 5 minutes: each active bot's getMe (SPEC M7); a revoked token deactivates the bot
    # and tells the operators within minutes. One call per bot, on normal: not bulk work.
    "check-bots": {
        "task": "tasks.normal.check_bots",
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
    # Hourly: the daily points (SPEC D2). The grant is once per account per day whatever runs,
    # so the first run after midnight (in ACCOUNTS_DAY_TIMEZONE, any zone) grants the day, the
    # later ones reach only the accounts started since, and a run missed (beat down) is made up
    # within the hour. A long run hands its rest on to a new job (tasks/low.py).
    "grant-daily-points": {
        "task": "tasks.low.grant_daily_points",
        "schedule": crontab(minute=5),
        "options": {"expires": 55 * 60},
    },
    # Daily: periodic messages' runs and sends are kept PERIODIC_KEEP_DAYS for the record (a
    # message every minute to 100 groups writes 144,000 send rows a day), then purged.
    "purge-periodic-runs": {
        "task": "tasks.low.purge_periodic_runs",
        "schedule": crontab(minute=37, hour=3),
        "options": {"expires": 23 * 3600},
    },
    # Every minute: decided join requests whose executor was lost are driven again, claims of
    # dead jobs given back, requests no one decided for days expired (SPEC M2). Cheap when
    # nothing waits.
    "redrive-join-requests": {
        "task": "tasks.normal.redrive_join_requests",
        "schedule": crontab(minute="*"),
        "options": {"expires": 50},
    },
    # Every GROWTH_COUNT_MINUTES: a round of member counts, one job per group spread over the
    # interval (SPEC M5); each count applies its group's phase rules.
    "refresh-member-counts": {
        "task": "tasks.low.plan_member_counts",
        "schedule": crontab(minute=f"*/{GROWTH_COUNT_MINUTES}"),
        "options": {"expires": GROWTH_COUNT_MINUTES * 60 - 10},
    },
    # Hourly: the phase rules of every group (an end or start date comes with no count).
    "apply-growth-rules": {
        "task": "tasks.normal.apply_growth_rules",
        "schedule": crontab(minute=3),
        "options": {"expires": 55 * 60},
    },
    # Every minute: a broadcast whose jobs were lost (every worker killed, say) is picked up
    # again (SPEC B6); `low` workers also ask for this as they start. Cheap when nothing stalled.
    "resume-broadcasts": {
        "task": "tasks.normal.resume_broadcasts",
        "schedule": crontab(minute="*"),
        "options": {"expires": 50},
    },
    # Every 5 seconds: member activity buffered in Redis is written to PostgreSQL in batches
    # (SPEC M3); a run with nothing buffered costs one Redis round trip.
    "flush-member-activity": {
        "task": "tasks.low.flush_member_activity",
        "schedule": ACTIVITY_FLUSH_SECONDS,
        "options": {"expires": ACTIVITY_FLUSH_SECONDS},
    },
    # Hourly: the kicker (SPEC M4) starts a run in each group with a kick rule; each run works
    # through its group in chunks that re-queue themselves, within the bulk budget.
    "kick-inactive-members": {
        "task": "tasks.low.start_kick_runs",
        "schedule": crontab(minute=23),
        "options": {"expires": 50 * 60},
    },
}
