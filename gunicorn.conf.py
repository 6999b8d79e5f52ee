"""gunicorn settings for the `web` process, read from the environment (see .env.example)."""

import multiprocessing
from typing import Any

from gmbot import logs, metrics_files
from gmbot.env import env, envbool, envint

# Before any worker (or the app) imports prometheus_client: every worker writes its samples to
# this master's directory, which /metrics adds up (gmbot/metrics_files.py).
metrics_files.use("web")

bind = env("WEB_BIND") or f"127.0.0.1:{envint('WEB_PORT', 8000)}"
workers = envint("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1)
worker_class = env("WEB_WORKER_CLASS", "sync")
threads = envint("WEB_THREADS", 1)
timeout = envint("WEB_TIMEOUT", 30)
graceful_timeout = 20
# Recycle workers now and then so a slow leak never becomes an outage; jitter avoids a herd.
max_requests = 20000
max_requests_jitter = 2000
# Access logs cost throughput on the webhook path; the app logs what matters itself.
accesslog = env("WEB_ACCESS_LOG") or None
errorlog = "-"
# gunicorn's own lines in the format of every other line (gmbot/logs.py).
logconfig_dict = logs.config(logs.log_format(envbool("DEBUG", False)), env("LOG_LEVEL", "INFO"))
forwarded_allow_ips = env("FORWARDED_ALLOW_IPS", "127.0.0.1")


def on_starting(server: Any) -> None:
    """Check the settings and the services once, in the master, before any worker forks: a bad
    setting is one sentence and exit status 1, not a traceback per worker and a respawn loop."""
    if getattr(server.app, "app_uri", None) != "gmbot.wsgi:application":
        return  # the benchmarks' bare WSGI app shares this file
    import os

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gmbot.settings")
    from gmbot import startup

    startup.check_services()
    startup.warn_about_static_files()


def post_worker_init(worker: Any) -> None:
    """The worker has loaded the application: the collector leaves that out of its walks
    (gmbot/heap.py)."""
    from gmbot import heap

    heap.freeze_what_is_loaded()


def child_exit(server: Any, worker: Any) -> None:
    """A worker is gone (recycled, crashed, killed): its live gauges go with it."""
    metrics_files.child_exited(worker.pid)


def on_exit(server: Any) -> None:
    metrics_files.master_exiting()
