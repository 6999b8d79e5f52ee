"""A process that loaded GMBot leaves its heap out of the interpreter's final collections."""

import subprocess
import sys

from tests.conftest import ROOT


def test_the_heap_is_frozen_after_every_other_exit_handler():
    # Registered before gmbot is imported, this handler runs after gmbot's (atexit is LIFO): it
    # sees what the interpreter's finalizer will see.
    code = (
        "import atexit, gc\n"
        "atexit.register(lambda: print('frozen', gc.get_freeze_count()))\n"
        "import gmbot\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
        env={"ENV_FILE": "/dev/null", "PATH": "/usr/bin:/bin"},
    ).stdout  # fmt: skip
    frozen = int(out.split()[-1])
    assert frozen > 10_000, out  # the modules, classes and functions of Django and Celery
