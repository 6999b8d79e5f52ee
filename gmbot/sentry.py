"""Sentry (SPEC O4), when SENTRY_DSN is set.

Initialised from the settings, so in the master process before gunicorn or Celery's prefork pool
forks (sentry-sdk restarts its sending thread in each child). Nothing it sends holds a bot token:
every event, transaction and breadcrumb passes gmbot.redact first, URLs, span descriptions and
exception text included. Nor an update's text: no local variables, no request bodies, no
personal data (Celery's integration then shows a job's name, not its arguments).
"""

from __future__ import annotations

from typing import Any

from gmbot import redact
from gmbot.env import ConfigError


def scrub(event: Any, hint: Any = None) -> Any:
    """before_send, before_send_transaction and before_breadcrumb: the same, redacted."""
    return redact.everything(event)


def init(dsn: str, environment: str, traces_sample_rate: float) -> None:
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration
    from sentry_sdk.utils import BadDsn, Dsn

    try:
        Dsn(dsn)
    except BadDsn:
        raise ConfigError(
            "SENTRY_DSN is not a Sentry DSN: copy it from the Sentry project's settings "
            "(https://KEY@HOST/PROJECT), or leave it empty to turn Sentry off."
        ) from None
    sentry_sdk.init(
        dsn=dsn,
        environment=environment or None,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        send_default_pii=False,
        include_local_variables=False,
        max_request_body_size="never",
        traces_sample_rate=traces_sample_rate,
        before_send=scrub,
        before_send_transaction=scrub,
        before_breadcrumb=scrub,
    )
