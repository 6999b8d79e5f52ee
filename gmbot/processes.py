"""Run one command line as N processes that live and stop together: `worker_high`'s Procfile line.

    python -m gmbot.processes N|auto celery -A gmbot worker -Q high -n high-{index}@%h ...

One Python process runs its Python on one core at a time, so a threads worker stops gaining at
about one core however many threads it has. This runs N copies of the command (a Python module's
command line, run with this interpreter: `celery ...` is `python -m celery ...`), `{index}` in it
replaced by 1..N so each Celery worker has its own node name. `auto` is one per core the process
may use. They share the queue, the budgets, the done-marks and the chats' lines, all in Redis, as
workers on different hosts do.

They live and stop together, and the process manager (the Procfile's runner, systemd, Docker)
sees one process:
- SIGTERM or SIGINT to this process is passed on as SIGTERM (Celery's warm shutdown: running
  jobs finish); SIGQUIT as SIGQUIT (cold). It exits once every copy has.
- A copy that exits on its own stops the others (warm) and this process exits with its status,
  so the process manager restarts the whole set, as it would restart one worker.
- If this process is killed outright (SIGKILL), each copy gets SIGTERM from the kernel (Linux's
  parent-death signal): none is left behind.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from types import FrameType

USAGE = "usage: python -m gmbot.processes N|auto MODULE [ARG ...]  ({index} in ARG is 1..N)"
# How long copies get to finish their jobs after a stop before they are killed.
STOP_SECONDS = 60.0
_PR_SET_PDEATHSIG = 1  # prctl(2)


def count_of(text: str) -> int:
    """How many copies `text` asks for: a positive number, or `auto` for one per usable core."""
    if text == "auto":
        return max(1, len(os.sched_getaffinity(0)))
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"the number of processes must be a positive number or auto, not {text!r}")
    return int(text)


def commands(count: int, module_args: Sequence[str]) -> list[list[str]]:
    """The command line of each copy: this interpreter running the module, {index} filled in."""
    return [
        [sys.executable, "-m", *(arg.replace("{index}", str(n)) for arg in module_args)]
        for n in range(1, count + 1)
    ]


def run(count: int, module_args: Sequence[str]) -> int:
    """Start the copies, pass signals on, and return the status to exit with."""
    lines = commands(count, module_args)
    if count == 1:
        os.execv(sys.executable, lines[0])  # noqa: S606 - nothing to supervise: become it
    children: list[subprocess.Popen[bytes]] = []
    deadline: list[float] = []  # set once the copies are told to stop

    def stop(how: int) -> None:
        if not deadline:
            deadline.append(time.monotonic() + STOP_SECONDS)
        for child in children:
            if child.poll() is None:
                child.send_signal(how)

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        stop(signal.SIGQUIT if signum == signal.SIGQUIT else signal.SIGTERM)

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT):
        signal.signal(signum, on_signal)
    for line in lines:
        children.append(subprocess.Popen(line, preexec_fn=_die_with_parent))  # noqa: S603
    if deadline:  # a stop came while they were starting: the later copies missed it
        stop(signal.SIGTERM)

    status = 0
    while any(child.poll() is None for child in children):
        ended = next((child for child in children if child.returncode is not None), None)
        if ended is not None and not deadline:
            status = ended.returncode
            print(
                f"processes: copy {children.index(ended) + 1} of {count} exited with status "
                f"{status}; stopping the others",
                file=sys.stderr,
                flush=True,
            )
            stop(signal.SIGTERM)
        if deadline and time.monotonic() > deadline[0]:
            stop(signal.SIGKILL)
        time.sleep(0.2)
    if not status:
        status = next((child.returncode for child in children if child.returncode), 0)
    return status if status >= 0 else 128 - status


def _die_with_parent() -> None:
    """In a copy, before it starts (Linux): SIGTERM it if this process dies, even by SIGKILL, so
    no copy is left consuming jobs without the process its manager watches."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def main(argv: Sequence[str]) -> int:
    if len(argv) < 2:
        print(USAGE, file=sys.stderr)
        return 2
    try:
        count = count_of(argv[0])
    except ValueError as exc:
        print(f"processes: {exc}. {USAGE}", file=sys.stderr)
        return 2
    return run(count, argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
