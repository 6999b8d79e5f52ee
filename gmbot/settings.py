"""Django settings for GMBot: everything comes from the environment (see `.env.example`)."""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import logging
import zoneinfo
from pathlib import Path

import dj_database_url
from cryptography.fernet import Fernet

from celeryconfig import DONE_MARK_SECONDS
from gmbot import logs, sentry
from gmbot.env import ConfigError, env, envbool, envfloat, envint, envlist

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = envbool("DEBUG", False)
SECRET_KEY = env("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ConfigError(
            "SECRET_KEY must be set when DEBUG is off: put a long random one in .env "
            '(python -c "import secrets; print(secrets.token_urlsafe(50))"), or set DEBUG=1 '
            "for local use."
        )
    SECRET_KEY = "dev-only-insecure-key-set-SECRET_KEY-in-production"  # noqa: S105

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    # Django's admin with GMBot's site: its header, and the dashboard as its index (apps/ops).
    "apps.ops.site.GMBotAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_celery_beat",
    "django_structlog",
    "axes",
    "apps.bots",
    "apps.chats",
    "apps.telegram",
    "apps.ops",
    "apps.ingress",
    # Growth before the guard: its /growth must be matched before the guard's catch-all
    # enforcement of group messages on a bot that runs both (the order here is the handler
    # order, docs/architecture.md); a non-admin's /growth is still enforced (apps/growth).
    "apps.growth",
    "apps.guard",
    "apps.live",
    "apps.accounts",
    "apps.broadcasts",
    "apps.periodic",
    "apps.members",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files (the admin's CSS and JS) from the web process itself, in every mode: right
    # after SecurityMiddleware, as WhiteNoise asks, so they skip sessions and CSRF.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Binds request_id and user_id to every line logged while the request is served.
    "django_structlog.middlewares.RequestMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: refuses a locked-out login before the view runs.
    "axes.middleware.AxesMiddleware",
]

# The admin login is locked for an address after AXES_FAILURE_LIMIT failed attempts, for
# AXES_COOLOFF_TIME hours (django-axes). The address is the client's behind our own proxy
# (apps/ops/access.py), or everyone behind nginx would share one lockout.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = envint("ADMIN_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = envfloat("ADMIN_LOGIN_LOCKOUT_HOURS", 1.0)
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "apps.ops.access.client_ip"

ROOT_URLCONF = "gmbot.urls"
WSGI_APPLICATION = "gmbot.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


def _database() -> dict[str, object]:
    """PostgreSQL in every real deployment and in the tests; SQLite only for a zero-setup run."""
    url = env("DATABASE_URL")
    if not url:
        # var/ is not in the repository: a fresh clone has to make it before SQLite can.
        (BASE_DIR / "var").mkdir(exist_ok=True)
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": BASE_DIR / "var" / "gmbot.sqlite3"}
    try:
        return dict(dj_database_url.parse(url, conn_max_age=envint("DB_CONN_MAX_AGE", 60)))
    except ValueError:
        raise ConfigError(
            "DATABASE_URL is not a database URL: write it as "
            "postgres://USER:PASSWORD@HOST:5432/NAME."
        ) from None


DATABASES = {"default": _database()}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL", "redis://127.0.0.1:6379/0")
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "gmbot",
    }
}

# Celery's settings (broker, queues, routes) live in celeryconfig.py.

# Telegram. Pointing TELEGRAM_API_URL at the sandbox (sandbox/) is the only change tests make.
TELEGRAM_API_URL = env("TELEGRAM_API_URL", "https://api.telegram.org").rstrip("/")
TELEGRAM_CONNECT_TIMEOUT = envint("TELEGRAM_CONNECT_TIMEOUT", 5)
TELEGRAM_READ_TIMEOUT = envint("TELEGRAM_READ_TIMEOUT", 15)
# --- Telegram budgets (apps/telegram/ratelimit.py) ---
# Shared by every process on every host through Redis: at most LIMIT calls in any window of
# WINDOW_MS milliseconds. Telegram allows about 30 messages/s per bot, 20 messages/min per group
# and 1 message/s per private chat; the bot budget (messages) stays under that, every call also
# passes a ceiling of our own (CALLS), and bulk work (broadcasts, kicking) must also pass its own
# smaller budget, so interactive calls always find room.
TELEGRAM_BOT_LIMIT = envint("TELEGRAM_BOT_LIMIT", 25)
TELEGRAM_BOT_WINDOW_MS = envint("TELEGRAM_BOT_WINDOW_MS", 1000)
TELEGRAM_CALLS_LIMIT = envint("TELEGRAM_CALLS_LIMIT", 100)
TELEGRAM_CALLS_WINDOW_MS = envint("TELEGRAM_CALLS_WINDOW_MS", 1000)
TELEGRAM_GROUP_LIMIT = envint("TELEGRAM_GROUP_LIMIT", 20)
TELEGRAM_GROUP_WINDOW_MS = envint("TELEGRAM_GROUP_WINDOW_MS", 60_000)
TELEGRAM_PRIVATE_LIMIT = envint("TELEGRAM_PRIVATE_LIMIT", 1)
TELEGRAM_PRIVATE_WINDOW_MS = envint("TELEGRAM_PRIVATE_WINDOW_MS", 1000)
TELEGRAM_BULK_LIMIT = envint("TELEGRAM_BULK_LIMIT", 5)
TELEGRAM_BULK_WINDOW_MS = envint("TELEGRAM_BULK_WINDOW_MS", 1000)
# Bulk messages (broadcasts) to one chat are at least this far apart (SPEC B2).
TELEGRAM_GROUP_SPACING_MS = envint("TELEGRAM_GROUP_SPACING_MS", 3000)
TELEGRAM_PRIVATE_SPACING_MS = envint("TELEGRAM_PRIVATE_SPACING_MS", 1000)
# A call that must wait at most this long for its budgets sleeps; a longer wait raises RateLimited
# and the task is retried with that countdown instead of holding a worker.
TELEGRAM_BUDGET_MAX_WAIT_MS = envint("TELEGRAM_BUDGET_MAX_WAIT_MS", 1000)


def _token_keys() -> list[bytes]:
    """Fernet keys for bot tokens at rest: the first encrypts, all decrypt (rotation)."""
    keys = envlist("BOT_TOKEN_KEYS")
    make_one = (
        'python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
    )
    for number, key in enumerate(keys, 1):
        try:
            Fernet(key)
        except ValueError:
            raise ConfigError(
                f"BOT_TOKEN_KEYS: key {number} is not a Fernet key (32 url-safe base64 bytes): "
                f"make one with {make_one}."
            ) from None
    if keys:
        return [key.encode() for key in keys]
    if not DEBUG:
        raise ConfigError(
            f"BOT_TOKEN_KEYS must be set when DEBUG is off: make a key with {make_one} and put "
            "it in .env."
        )
    # Development only: a key derived from SECRET_KEY so a fresh checkout works without setup.
    digest = hashlib.sha256(b"gmbot-bot-token-key:" + SECRET_KEY.encode()).digest()
    return [base64.urlsafe_b64encode(digest)]


BOT_TOKEN_KEYS = _token_keys()

# Webhook ingress (apps/ingress). Telegram is told to POST to WEBHOOK_BASE_URL + this path.
WEBHOOK_PATH = "/api/webhooks/telegram"
WEBHOOK_BASE_URL = env("WEBHOOK_BASE_URL").rstrip("/")
WEBHOOK_MAX_BODY_BYTES = 1024 * 1024
WEBHOOK_MAX_CONNECTIONS = envint("WEBHOOK_MAX_CONNECTIONS", 40)
# How long a delivered (bot, update_id) is remembered; Telegram redelivers within this window.
WEBHOOK_DEDUP_SECONDS = envint("WEBHOOK_DEDUP_SECONDS", 3600)
if WEBHOOK_DEDUP_SECONDS < 3600:
    raise ConfigError("WEBHOOK_DEDUP_SECONDS must be at least 3600 (one hour): raise or unset it.")

# --- REST API (apps/api; docs/api.md) ---
# Keys come from djangorestframework-api-key (only a hash is stored); apps.api resolves them to
# their owner, scopes every query to that owner, throttles per key in Redis and answers every
# error in one shape. The library's app must come before apps.api, whose admin replaces its own.
INSTALLED_APPS += [
    "rest_framework",
    "rest_framework_api_key",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "apps.api",
]
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["apps.api.authentication.APIKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_THROTTLE_CLASSES": ["apps.api.throttling.KeyRateThrottle"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "apps.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "apps.api.errors.exception_handler",
    # OPTIONS would describe serializers outside the schema, and ?format= would be one more
    # query parameter outside it: both off, so the schema is the whole surface.
    "DEFAULT_METADATA_CLASS": None,
    "URL_FORMAT_OVERRIDE": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "GMBot API",
    "DESCRIPTION": "The groups of the bots an API key's owner runs. Keys, errors and limits: "
    "docs/api.md.",
    "VERSION": "1",
    "SCHEMA_PATH_PREFIX": "/api",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema and its viewers are public and hold no data, so they read no key (a stale key
    # in a browser must not make the docs fail to load).
    "SERVE_AUTHENTICATION": [],
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI and ReDoc from our own static files (drf-spectacular-sidecar), never a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Swagger UI would otherwise ask an outside validator about the schema from the browser.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
}
# Requests per API key, shared by every web process (Redis): "<count>/<s|min|hour|day>", or
# empty for no limit.
API_THROTTLE_RATE = env("API_THROTTLE_RATE", "60/min")
# --- The bot in private chats (apps/accounts; docs/accounts.md) ---
# Commands one user may send one bot in any window of this many seconds (SPEC D6); beyond that
# one polite refusal per window and nothing is done.
ACCOUNTS_COMMAND_LIMIT = envint("ACCOUNTS_COMMAND_LIMIT", 10)
ACCOUNTS_COMMAND_WINDOW_SECONDS = envint("ACCOUNTS_COMMAND_WINDOW_SECONDS", 60)
# How long a conversation (/clone) waits for the user's next answer (SPEC D7).
ACCOUNTS_CONVERSATION_SECONDS = envint("ACCOUNTS_CONVERSATION_SECONDS", 24 * 3600)
# How long a paid "check live" view may be paged through for free (SPEC D3).
ACCOUNTS_VIEW_SECONDS = envint("ACCOUNTS_VIEW_SECONDS", 600)
# How long /activate makes a group admin's points unlimited before it must be run again (D4).
ACCOUNTS_UNLIMITED_DAYS = envint("ACCOUNTS_UNLIMITED_DAYS", 30)
# The calendar of the daily grant (SPEC D2): an IANA zone name.
ACCOUNTS_DAY_TIMEZONE = env("ACCOUNTS_DAY_TIMEZONE", "UTC")
try:
    zoneinfo.ZoneInfo(ACCOUNTS_DAY_TIMEZONE)
except (zoneinfo.ZoneInfoNotFoundError, ValueError):
    raise ConfigError(
        f"ACCOUNTS_DAY_TIMEZONE must be a time zone name such as UTC or Europe/Berlin, "
        f"not {ACCOUNTS_DAY_TIMEZONE!r}."
    ) from None

# How long a worker remembers an update it finished (apps/ingress/dispatch.py): longer than the
# broker can take to hand its job out again (celeryconfig.py says how long that is).
UPDATE_DONE_SECONDS = DONE_MARK_SECONDS

# --- Broadcasts (apps/broadcasts; docs/broadcasts.md) ---
# Deliveries one sending job claims and sends before it queues the next (free and paid rate).
BROADCAST_BATCH_SIZE = envint("BROADCAST_BATCH_SIZE", 50)
BROADCAST_PAID_BATCH_SIZE = envint("BROADCAST_PAID_BATCH_SIZE", 500)
# A paid batch claims this many deliveries at once (one commit for them all); a job killed in
# the middle leaves them all `unknown`. At the free rate deliveries are claimed one at a time.
BROADCAST_PAID_CLAIM = envint("BROADCAST_PAID_CLAIM", 25)
# Sending jobs that run side by side for one broadcast (free and paid rate).
BROADCAST_SENDERS = envint("BROADCAST_SENDERS", 2)
BROADCAST_PAID_SENDERS = envint("BROADCAST_PAID_SENDERS", 2)
# Seconds a sending job's claim outlives its last sign of life; longer than one Bot API call can
# take (TELEGRAM_READ_TIMEOUT and a budget wait), so a live job's claim never lapses mid-call.
BROADCAST_LEASE_SECONDS = envint("BROADCAST_LEASE_SECONDS", 30)
# Failures in a row (across broadcasts) that deactivate a group for broadcasts (SPEC B4).
BROADCAST_MAX_FAILURES = envint("BROADCAST_MAX_FAILURES", 3)

# --- Periodic messages (apps/periodic; docs/periodic.md) ---
# Groups one sending job of a periodic message's run sends to before it queues the next.
PERIODIC_BATCH_SIZE = envint("PERIODIC_BATCH_SIZE", 50)
# Days a run of a periodic message and its sends are kept (a daily beat job purges older ones).
PERIODIC_KEEP_DAYS = envint("PERIODIC_KEEP_DAYS", 30)
# Growth (SPEC M): decided join requests leave at this many calls a second per group, each
# call at its slot plus a random delay of up to this share of the interval (the average rate
# holds; slots are never closer than the interval, a late call is caught up on by one).
GROWTH_JOIN_RATE = envfloat("GROWTH_JOIN_RATE", 3.0)
GROWTH_JOIN_JITTER = envfloat("GROWTH_JOIN_JITTER", 0.5)
# One executor job works a group's queue this long, then queues the next (Celery's 60 s soft
# limit stays far away, and other groups' jobs get their turn on `normal`).
GROWTH_BATCH_SECONDS = envint("GROWTH_BATCH_SECONDS", 20)
# Held or messaged requests no one decided are expired after this many days.
GROWTH_HOLD_DAYS = envint("GROWTH_HOLD_DAYS", 7)
# A decided request is tried this many times (transient errors) before it is `failed`.
GROWTH_MAX_ATTEMPTS = envint("GROWTH_MAX_ATTEMPTS", 5)

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Filled by `manage.py collectstatic` (the Docker image does it at build time) and served by
# WhiteNoise: with DEBUG on it serves the apps' files directly, so `make demo` needs no
# collectstatic.
STATIC_ROOT = Path(env("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
if DEBUG:
    # The files come from the apps themselves then; an empty STATIC_ROOT only spares every
    # process WhiteNoise's warning that the directory is missing.
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Compressed (gzip) copies and content-hashed names, so browsers may cache them for ever.
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Behind a TLS-terminating proxy in production; `manage.py check --deploy` holds us to it.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", not DEBUG)
# Probes and Prometheus ask over plain HTTP inside the deployment's network.
SECURE_REDIRECT_EXEMPT = [r"^(live|ready|health|metrics)$"]
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", not DEBUG)

LOG_LEVEL = env("LOG_LEVEL", "INFO")
# JSON lines with DEBUG off, readable ones with it on (gmbot/logs.py), with the ids bound.
LOG_FORMAT = logs.log_format(DEBUG)
LOGGING = logs.config(LOG_FORMAT, LOG_LEVEL)
# django-structlog: request and task context (request_id, user_id, task_id) in every line. The
# client's address is not logged (the admin's lockout keeps what it needs); the task start and
# success lines would repeat Celery's own, so they are DEBUG.
DJANGO_STRUCTLOG_CELERY_ENABLED = True
DJANGO_STRUCTLOG_IP_LOGGING_ENABLED = False
DJANGO_STRUCTLOG_CELERY_TASK_START_LOG_LEVEL = logging.DEBUG
DJANGO_STRUCTLOG_CELERY_TASK_SUCCESS_LOG_LEVEL = logging.DEBUG

# --- Sentry (gmbot/sentry.py), when SENTRY_DSN is set: initialised here, before any fork ---
SENTRY_DSN = env("SENTRY_DSN")
if SENTRY_DSN:
    sentry.init(SENTRY_DSN, env("SENTRY_ENVIRONMENT"), envfloat("SENTRY_TRACES_SAMPLE_RATE", 0.0))


# --- /metrics (apps/ops/metrics.py; docs/operations.md) ---
def _networks(
    name: str, default: str
) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network] | None:
    """Addresses and networks, comma-separated; `*` for any (None)."""
    items = envlist(name, default)
    if items == ["*"]:
        return None
    networks = []
    for item in items:
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ConfigError(
                f"{name} must list IP addresses or networks (10.0.0.0/8), comma-separated, or "
                f"be *: {item!r} is neither."
            ) from None
    return networks


# Who may read /metrics: these addresses, or anyone sending `Authorization: Bearer
# <METRICS_TOKEN>` (empty: no token is accepted).
METRICS_ALLOWED_IPS = _networks("METRICS_ALLOWED_IPS", "127.0.0.1,::1")
METRICS_TOKEN = env("METRICS_TOKEN")
# The proxies whose X-Forwarded-For names the client (gunicorn is told the same).
TRUSTED_PROXIES = _networks("FORWARDED_ALLOW_IPS", "127.0.0.1")
