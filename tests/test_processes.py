"""gmbot/processes.py: worker_high's N copies start, stop and fail together."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from gmbot.processes import count_of
from tests.conftest import ROOT, wait_until


def launch(folder: Path, count: str, *extra: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "gmbot.processes", count, "tests.processes_copy", str(folder),
         "{index}", *extra],
        cwd=ROOT, stderr=subprocess.PIPE,
    )  # fmt: skip


def alive(pid: int) -> bool:
    """The process is there and not a zombie (its state follows the command name's ")")."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_auto_is_one_per_usable_core_and_a_bad_count_is_one_sentence() -> None:
    assert count_of("auto") == len(os.sched_getaffinity(0))
    assert count_of("3") == 3
    with pytest.raises(ValueError, match="positive number or auto, not '0'"):
        count_of("0")
    done = subprocess.run(
        [sys.executable, "-m", "gmbot.processes", "many", "celery"], cwd=ROOT,
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 2 and "not 'many'" in done.stderr and "Traceback" not in done.stderr


def test_the_copies_get_their_index_and_a_sigterm_stops_them_all(tmp_path: Path) -> None:
    launcher = launch(tmp_path, "2")
    wait_until(lambda: {p.name for p in tmp_path.iterdir()} == {"1", "2"}, timeout=20)
    pids = [int((tmp_path / name).read_text()) for name in ("1", "2")]

    launcher.send_signal(signal.SIGTERM)

    assert launcher.wait(timeout=20) == 0
    assert not any(alive(pid) for pid in pids)


def test_a_copy_that_exits_stops_the_others_and_its_status_is_the_sets(tmp_path: Path) -> None:
    launcher = launch(tmp_path, "2", "3")  # copy 1 exits 3 once both are up

    assert launcher.wait(timeout=20) == 3
    pids = [int(path.read_text()) for path in tmp_path.iterdir()]
    assert len(pids) == 2 and not any(alive(pid) for pid in pids)
    assert b"exited with status 3; stopping the others" in launcher.stderr.read()  # type: ignore[union-attr]


def test_a_launcher_killed_outright_leaves_no_copy_behind(tmp_path: Path) -> None:
    launcher = launch(tmp_path, "2")
    wait_until(lambda: {p.name for p in tmp_path.iterdir()} == {"1", "2"}, timeout=20)
    pids = [int((tmp_path / name).read_text()) for name in ("1", "2")]

    launcher.kill()
    launcher.wait(timeout=5)

    wait_until(lambda: not any(alive(pid) for pid in pids), timeout=10)
