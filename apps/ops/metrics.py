"""/metrics (SPEC O2): every process's samples added up, and what is known only by asking.

What the processes counted comes from the multiprocess files of every master on the host
(gmbot/metrics_files.py). At each scrape the functions apps registered with
`gmbot.metrics.on_scrape` add theirs; this app's: queue depths and the broker's unacked jobs, dead
letters per queue, active groups and bots, whether PostgreSQL and Redis answer, and the Redis
counters of gmbot/counters.py and apps/ingress's unrouted updates. Each asks once per scrape and
reports what it could: one that fails is left out and counted in bot_scrape_errors_total.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from django.db.models import Count
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

from apps.bots.models import Bot
from apps.chats.models import Group
from apps.ops import services
from celeryconfig import QUEUE_NAMES
from gmbot import counters, metrics, metrics_files

logger = logging.getLogger(__name__)

UNROUTED_KEY = "gmbot:ingress:unrouted"  # apps/ingress/stats.py: answered 200, not queued


class _EveryProcess:
    """The samples of every master's directory, merged as one (a metric in two directories is
    still one family, its values summed)."""

    def collect(self) -> Iterable[Metric]:
        files = [str(f) for d in metrics_files.directories() for f in Path(d).glob("*.db")]
        return MultiProcessCollector.merge(files, accumulate=True)


class _AtScrape:
    def collect(self) -> Iterator[Metric]:
        failed = 0
        for collect in metrics.scrape_functions():
            try:
                yield from list(collect())
            except Exception:
                failed += 1
                logger.warning("metrics: %s failed at scrape", collect.__qualname__, exc_info=True)
        errors = CounterMetricFamily(
            "bot_scrape_errors", "Scrape-time collectors that failed during this scrape"
        )
        errors.add_metric([], failed)
        yield errors


def exposition() -> bytes:
    """The Prometheus text format of everything, for one scrape."""
    registry = CollectorRegistry()
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        registry.register(_EveryProcess())
    else:
        # One process (runserver, a shell, the tests): its own counters are all there is.
        registry.register(_Registry(REGISTRY))
    registry.register(_AtScrape())
    return generate_latest(registry)


class _Registry:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry

    def collect(self) -> Iterable[Metric]:
        return self.registry.collect()


# ---- this app's scrape-time metrics ---------------------------------------------------------


def health() -> Iterator[Metric]:
    for name, up, what in (
        ("bot_db_connected", services.check_database(), "PostgreSQL answers"),
        ("bot_redis_connected", services.check_redis(), "Redis answers"),
    ):
        gauge = GaugeMetricFamily(name, f"1 when {what}, else 0")
        gauge.add_metric([], 1 if up else 0)
        yield gauge


def groups_and_bots() -> Iterator[Metric]:
    active = GaugeMetricFamily(
        "bot_active_groups", "Groups the platform acts in (enabled, their bot active)"
    )
    active.add_metric([], Group.objects.filter(enabled=True, bot__is_active=True).count())
    yield active
    bots = GaugeMetricFamily("bot_bots", "Bots by whether they are active", labels=["active"])
    rows = dict(Bot.objects.values_list("is_active").annotate(n=Count("pk")))
    for flag in (True, False):
        bots.add_metric([str(flag).lower()], rows.get(flag, 0))
    yield bots


def dead_letters() -> Iterator[Metric]:
    gauge = GaugeMetricFamily(
        "bot_dead_letters",
        "Dead letters waiting for a replay or discard, per queue",
        labels=["queue"],
    )
    counts = services.dead_letters_by_queue()
    for queue in QUEUE_NAMES:
        gauge.add_metric([queue], counts.get(queue, 0))
    yield gauge


def queues() -> Iterator[Metric]:
    depth = GaugeMetricFamily(
        "bot_queue_depth",
        "Jobs waiting in each queue (not yet taken by a worker)",
        labels=["queue"],
    )
    sizes, unacked = services.queue_depths()
    for queue in QUEUE_NAMES:
        depth.add_metric([queue], sizes[queue])
    yield depth
    if unacked is not None:
        held = GaugeMetricFamily(
            "bot_queue_unacked",
            "Jobs workers took and have not acknowledged yet (running, or held for a countdown)",
        )
        held.add_metric([], unacked)
        yield held


def redis_counters() -> Iterator[Metric]:
    """The counters every process keeps in Redis hashes, as Prometheus counters."""
    not_stored = CounterMetricFamily(
        "bot_dead_letters_not_stored",
        "Jobs out of retries whose dead letter PostgreSQL refused (kept and tried again)",
        labels=["queue"],
    )
    for queue, n in sorted(counters.read(counters.DEAD_LETTERS_NOT_STORED).items()):
        not_stored.add_metric([queue], n)
    yield not_stored
    unknown = CounterMetricFamily(
        "bot_api_unknown_outcomes",
        "Bot API calls answered after the read timeout, by method and whether they were repeated",
        labels=["method", "repeated"],
    )
    for label, n in sorted(counters.read(counters.TELEGRAM_UNKNOWN_OUTCOMES).items()):
        method, _, repeated = label.partition(":")
        unknown.add_metric([method, "true" if repeated == "repeated" else "false"], n)
    yield unknown
    unrouted = CounterMetricFamily(
        "bot_webhook_unrouted",
        "Updates of a kind nobody handles: answered 200, not queued",
        labels=["kind"],
    )
    for kind, n in sorted(counters.read(UNROUTED_KEY).items()):
        unrouted.add_metric([kind], n)
    yield unrouted


def register() -> None:
    for collect in (health, groups_and_bots, dead_letters, queues, redis_counters):
        metrics.on_scrape(collect)
