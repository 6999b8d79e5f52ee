"""How long a GMBot process takes to end once its work is done, with and without the quick exit.

    .venv/bin/python bench/process_exit.py [--runs 5]

Each run is a fresh Python that loads what a worker loads (Django, the Celery app, every task
module and the features' handlers), notes the time as its last statement, and exits; this script
takes the time the process ends. "without" unregisters the quick exit first. Prints the median
of the runs for each. The quick exit is gmbot/heap.py.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = """
import atexit, os, sys, time
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gmbot.settings")
import django
import gmbot
from gmbot import heap
django.setup()
gmbot.celery_app.loader.import_default_modules()
import tasks.high, tasks.normal, tasks.low  # noqa: E401
if sys.argv[1] == "without":
    atexit.unregister(heap._leave_the_heap_out_of_the_final_collections)
open(sys.argv[2], "w").write(repr(time.time()))
"""


def one_run(mode: str) -> float:
    with tempfile.NamedTemporaryFile("r", suffix=".t") as stamp:
        env = {**os.environ, "ENV_FILE": "/dev/null", "DEBUG": "1"}
        subprocess.run(
            [sys.executable, "-c", CHILD, mode, stamp.name],
            cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        ended = time.time()
        return ended - float(Path(stamp.name).read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    for mode in ("without", "with"):
        times = [one_run(mode) for _ in range(args.runs)]
        print(f"exit {mode:>7} the quick exit: median {statistics.median(times) * 1000:7.1f} ms "
              f"(runs: {', '.join(f'{t * 1000:.0f}' for t in times)})")  # fmt: skip


if __name__ == "__main__":
    main()
