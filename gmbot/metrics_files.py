"""Where every process of a host writes its Prometheus samples (prometheus-client's multiprocess
mode), so /metrics can add up every gunicorn worker and every Celery worker process.

Each master process (the gunicorn master, each `celery worker`) gets a directory of its own under
METRICS_DIR, `<kind>-<host>-<pid>`, made empty when it starts and removed when it exits; its
children inherit it through PROMETHEUS_MULTIPROC_DIR and write one file per process. A child that
exits is marked dead (its live gauges dropped; its counters stay, so totals never go backwards
while the master runs). A master that died without cleaning up is noticed by the next one to start
on the same host: its directory goes.

This module must not import prometheus_client at its top: the client decides at import time
whether it runs in multiprocess mode, from PROMETHEUS_MULTIPROC_DIR, so `use()` must run first.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import sys
from pathlib import Path

from gmbot.env import env, envbool

logger = logging.getLogger(__name__)

ENABLED = envbool("METRICS_ENABLED", True)
BASE = Path(env("METRICS_DIR") or Path(__file__).resolve().parent.parent / "var" / "metrics")
_HOST = socket.gethostname().replace("-", "_")


def use(kind: str) -> Path | None:
    """Make this process a master whose children write their samples to a fresh directory of
    its own (`kind`: web, or celery for a worker or beat). Returns the directory, or None with
    METRICS_ENABLED off."""
    if not ENABLED:
        return None
    if "gmbot.metrics" in sys.modules:
        logger.warning("metrics: counted before their directory was set; this process's are lost")
    BASE.mkdir(parents=True, exist_ok=True)
    _remove_dead_masters()
    path = BASE / f"{kind}-{_HOST}-{os.getpid()}"
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir()
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(path)
    values = sys.modules.get("prometheus_client.values")
    if values is not None:
        # The `celery` command imports Flower's plugin, and with it prometheus_client, before it
        # loads our app: the client chose its single-process values then. Ours are made later
        # (gmbot.metrics, imported with the tasks), so choosing again now covers every one.
        values.ValueClass = values.get_value_class()  # type: ignore[attr-defined]
    return path


def directories() -> list[Path]:
    """Every master's directory on this host (and on others sharing METRICS_DIR)."""
    if not BASE.is_dir():
        return []
    return sorted(path for path in BASE.iterdir() if path.is_dir())


def child_exited(pid: int) -> None:
    """A worker process of this master is gone: drop its live gauges."""
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if path:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid, path)


def master_exiting() -> None:
    """This master stops: its samples go with it (a new master starts from zero, which
    Prometheus reads as a counter reset)."""
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if path and Path(path).name.endswith(f"-{_HOST}-{os.getpid()}"):
        shutil.rmtree(path, ignore_errors=True)


def _remove_dead_masters() -> None:
    for path in directories():
        _kind, _, rest = path.name.partition("-")
        host, _, pid = rest.rpartition("-")
        if host == _HOST and pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(path, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
