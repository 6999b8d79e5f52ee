"""What a process loaded to start is left out of the collector's walks (gmbot/heap.py): after it
has started, and at exit."""

import subprocess
import sys

from tests.conftest import ROOT


def run(code: str) -> str:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
        env={"ENV_FILE": "/dev/null", "PATH": "/usr/bin:/bin"},
    ).stdout  # fmt: skip


def test_the_heap_is_frozen_after_every_other_exit_handler():
    # Registered before gmbot is imported, this handler runs after gmbot's (atexit is LIFO): it
    # sees what the interpreter's finalizer will see.
    out = run(
        "import atexit, gc\n"
        "atexit.register(lambda: print('frozen', gc.get_freeze_count()))\n"
        "import gmbot\n"
    )
    assert int(out.split()[-1]) > 10_000, out  # the modules, classes and functions of Celery


def test_a_started_process_leaves_what_it_loaded_out_and_still_collects_new_garbage():
    out = run(
        "import gc\n"
        "from gmbot import heap\n"
        "heap.freeze_what_is_loaded()\n"
        "frozen = gc.get_freeze_count()\n"
        "gc.disable()  # only the collection below counts\n"
        "class Node: pass\n"
        "for _ in range(1000):\n"
        "    a, b = Node(), Node(); a.b, b.a = b, a\n"
        "del a, b\n"
        "print(frozen, gc.collect())\n"
    )
    frozen, collected = map(int, out.split())
    assert frozen > 10_000, out
    assert collected >= 2000, out  # the cycles made afterwards are garbage the collector finds
