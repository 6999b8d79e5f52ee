"""gunicorn settings for the `web` process, read from the environment (see .env.example)."""

import multiprocessing
import os

bind = os.environ.get("WEB_BIND") or f"127.0.0.1:{os.environ.get('WEB_PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY") or multiprocessing.cpu_count() * 2 + 1)
worker_class = os.environ.get("WEB_WORKER_CLASS", "sync")
threads = int(os.environ.get("WEB_THREADS", "1"))
timeout = int(os.environ.get("WEB_TIMEOUT", "30"))
graceful_timeout = 20
# Recycle workers now and then so a slow leak never becomes an outage; jitter avoids a herd.
max_requests = 20000
max_requests_jitter = 2000
# Access logs cost throughput on the webhook path; the app logs what matters itself.
accesslog = os.environ.get("WEB_ACCESS_LOG") or None
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
