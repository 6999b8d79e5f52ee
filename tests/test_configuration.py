"""Every environment variable the code reads is documented in .env.example."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
READERS = re.compile(
    r"""\b(?:env|envbool|envint|envfloat|envlist|os\.environ\.get|getenv)\(\s*["']([A-Z][A-Z0-9_]+)["']"""
)
SOURCES = ["gmbot", "apps", "tasks", "celeryconfig.py", "gunicorn.conf.py", "flowerconfig.py"]


def variables_read_by_the_code() -> set[str]:
    found: set[str] = set()
    for source in SOURCES:
        path = ROOT / source
        for file in [path] if path.is_file() else path.rglob("*.py"):
            found.update(READERS.findall(file.read_text()))
    return found - {"DJANGO_SETTINGS_MODULE"}


def test_every_variable_the_code_reads_is_in_env_example():
    documented = set(re.findall(r"^([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.M))
    missing = variables_read_by_the_code() - documented
    assert not missing, f"undocumented in .env.example: {sorted(missing)}"


def test_make_help_lists_every_target():
    makefile = (ROOT / "Makefile").read_text()
    phony = re.search(r"^\.PHONY:((?:.*\\\n)*.*)$", makefile, re.M)
    assert phony
    targets = set(phony[1].replace("\\\n", " ").split())

    shown = subprocess.run(
        ["make", "-s", "help"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout

    listed = {line.split()[0] for line in shown.splitlines() if line.strip()}
    assert listed == targets


def test_the_sandbox_readme_quotes_the_sandbox_speed_benchmarks_records():
    benchmarks = (ROOT / "docs" / "BENCHMARKS.md").read_text()
    section = benchmarks.split("## The sandbox", 1)[1].split("\n## ", 1)[0]
    latest = re.search(r"\*\*([\d,]+ calls/s)\*\*, (p50 [\d.]+ ms), (p99 [\d.]+ ms)", section)
    assert latest, "no sandbox figure in docs/BENCHMARKS.md"

    readme = " ".join((ROOT / "sandbox" / "README.md").read_text().split())

    assert ", ".join(latest.groups()) in readme


def test_env_file_values_reach_the_processes_as_written_and_empty_ones_stay_unset(tmp_path):
    # given a .env with a quoted password holding $, a double-quoted value and an empty one
    env_file = tmp_path / ".env"
    env_file.write_text(
        'FLOWER_BASIC_AUTH=\'ops:pa$$w"rd #1\'\nLOG_LEVEL="WARNING"\nWEB_CONCURRENCY=\n'
    )
    names = ["FLOWER_BASIC_AUTH", "LOG_LEVEL", "WEB_CONCURRENCY"]
    env = {k: v for k, v in os.environ.items() if k not in names} | {"ENV_FILE": str(env_file)}
    show = f"import os, gmbot.env; print(repr({{n: os.environ.get(n) for n in {names!r}}}))"

    # when a process loads its settings (gmbot.env, as every process and bin/stack.py do)
    seen = subprocess.run(
        [sys.executable, "-c", show],
        cwd=ROOT, env=env, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip

    # then the values are the file's, unquoted and unexpanded, and the empty one is unset
    assert seen.strip() == repr(
        {"FLOWER_BASIC_AUTH": 'ops:pa$$w"rd #1', "LOG_LEVEL": "WARNING", "WEB_CONCURRENCY": None}
    )
