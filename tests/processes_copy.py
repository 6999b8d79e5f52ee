"""A stand-in worker for tests/test_processes.py: `python -m tests.processes_copy DIR N [STATUS]`.

Copy N writes DIR/<N> with its pid, then waits for SIGTERM (exit 0); given STATUS, copy 1 exits
with it once the other copy has written its file."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path


def main() -> int:
    folder, index = Path(sys.argv[1]), sys.argv[2]
    status = int(sys.argv[3]) if len(sys.argv) > 3 else None
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    (folder / index).write_text(str(os.getpid()))
    while True:
        if status is not None and index == "1" and len(list(folder.iterdir())) >= 2:
            return status
        time.sleep(0.05)


if __name__ == "__main__":
    sys.exit(main())
