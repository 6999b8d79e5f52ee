"""The staff dashboard (SPEC M7): the admin's index, a list of panels that apps contribute.

A panel is a title and a function of the scope (every bot, or one) that returns what to show: a
`Chart` (drawn in the browser by Chart.js, its data passed with json_script) or a `Table`, or
several. An app registers its panels in its `AppConfig.ready()`:

    from apps.ops.dashboard import Chart, Panel, Scope, register

    def member_counts(scope: Scope) -> Chart:
        ...  # aggregate queries only: the page must stay fast with 10,000 groups
        return Chart("line", labels=[...], series={"members": [...]})

    register(Panel("member-counts", "Member counts over time", member_counts, order=40))

Panels are shown by `order`, then name. One that fails shows that it failed (and logs why); the
others are drawn. Every panel of this app is below, and the guard's is in apps/guard/dashboard.py.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest
from django.utils import timezone

from apps.bots.models import Bot
from apps.ops import services
from apps.telegram import usage
from celeryconfig import QUEUE_NAMES

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Scope:
    """What the dashboard shows: every bot (`bot` None), or one bot."""

    bot: Bot | None
    bots: Sequence[Bot]

    @property
    def bot_id(self) -> int | None:
        return self.bot.pk if self.bot else None


@dataclass(frozen=True)
class Chart:
    """A Chart.js chart: `kind` bar or line, one label per point, one series per line or bar set."""

    kind: str
    labels: list[str]
    series: dict[str, list[float]]
    stacked: bool = False

    def spec(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "labels": self.labels,
            "series": [{"label": name, "data": data} for name, data in self.series.items()],
            "stacked": self.stacked,
        }


@dataclass(frozen=True)
class Table:
    columns: list[str]
    rows: list[list[Any]]
    empty: str = "nothing yet"


Content = Chart | Table


@dataclass(frozen=True)
class Panel:
    name: str  # unique; the element ids are built from it
    title: str
    content: Callable[[Scope], Content | Sequence[Content]]
    order: int = 100
    note: str = ""  # a line under the title: where the numbers come from


@dataclass
class Shown:
    """A panel as the template draws it."""

    panel: Panel
    charts: list[dict[str, Any]] = field(default_factory=list)  # {"id", "data_id", "spec"}
    tables: list[Table] = field(default_factory=list)
    failed: bool = False


_panels: dict[str, Panel] = {}


def register(panel: Panel) -> None:
    """Add a panel; registering the same name again replaces it (a reloaded app)."""
    _panels[panel.name] = panel


def panels() -> list[Panel]:
    return sorted(_panels.values(), key=lambda panel: (panel.order, panel.name))


def build(request: HttpRequest) -> dict[str, Any]:
    """Every panel's content for the scope the request asks for (`?bot=<pk>`)."""
    bots = list(Bot.objects.select_related("owner").order_by("username"))
    wanted = request.GET.get("bot", "")
    bot = next((b for b in bots if str(b.pk) == wanted), None)
    scope = Scope(bot=bot, bots=bots)
    shown = []
    for panel in panels():
        entry = Shown(panel)
        try:
            content = panel.content(scope)
        except Exception:
            logger.exception("dashboard: panel %s failed", panel.name)
            entry.failed = True
            shown.append(entry)
            continue
        for n, part in enumerate([content] if isinstance(content, Chart | Table) else content):
            if isinstance(part, Chart):
                chart_id = f"chart-{panel.name}-{n}"
                entry.charts.append(
                    {"id": chart_id, "data_id": f"{chart_id}-data", "spec": part.spec()}
                )
            else:
                entry.tables.append(part)
        shown.append(entry)
    return {"scope": scope, "panels": shown, "at": timezone.now()}


# ---- the panels of apps/ops -------------------------------------------------------------------


def queues(scope: Scope) -> Chart:
    """Jobs waiting now and dead letters, per queue (the broker and the dead letters are shared
    by every bot, so the scope does not change them)."""
    depths, _unacked = services.queue_depths()
    dead = services.dead_letters_by_queue()
    return Chart(
        "bar",
        labels=list(QUEUE_NAMES),
        series={
            "waiting now": [depths[q] for q in QUEUE_NAMES],
            "dead letters": [dead.get(q, 0) for q in QUEUE_NAMES],
        },
    )


def api_calls(scope: Scope) -> list[Content]:
    """Bot API calls and errors, hour by hour over the last 24 hours, and per method."""
    buckets = usage.last_hours(24)
    if scope.bot is not None:
        buckets = [b for b in buckets if b.bot_telegram_id == scope.bot.telegram_id]
    hours = usage.hour_starts(24)
    calls = dict.fromkeys(hours, 0)
    errors = dict.fromkeys(hours, 0)
    by_method: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for bucket in buckets:
        calls[bucket.hour] += bucket.calls
        errors[bucket.hour] += bucket.errors
        by_method[bucket.method][0] += bucket.calls
        by_method[bucket.method][1] += bucket.errors
    chart = Chart(
        "line",
        labels=[f"{hour:%H}:00" for hour in hours],
        series={"calls": [calls[h] for h in hours], "errors": [errors[h] for h in hours]},
    )
    rows = [[method, n, bad] for method, (n, bad) in sorted(by_method.items())]
    return [chart, Table(["method", "calls (24 h)", "errors (24 h)"], rows, "no calls in 24 h")]


def bots(scope: Scope) -> Table:
    """Each bot with its owner and its health: when getMe last answered, and the last error."""
    shown = [scope.bot] if scope.bot else scope.bots
    rows = [
        [
            f"@{bot.username}",
            str(bot.owner) if bot.owner else "-",
            "active" if bot.is_active else "inactive",
            f"{bot.checked_at:%Y-%m-%d %H:%M}" if bot.checked_at else "not yet",
            bot.check_error or "-",
        ]
        for bot in shown
    ]
    return Table(["bot", "owner", "state", "getMe answered", "last error"], rows, "no bots yet")


def register_core_panels() -> None:
    register(Panel("bots", "Bots", bots, order=10, note="getMe every 5 minutes"))
    register(
        Panel(
            "api-calls",
            "Bot API calls over 24 h",
            api_calls,
            order=30,
            note="every process's calls, counted per hour in Redis",
        )
    )
    register(
        Panel(
            "queues",
            "Queues now",
            queues,
            order=50,
            note="jobs waiting in the broker, and dead letters to replay or discard",
        )
    )
