"""Production settings pass Django's deployment checks; Procfile and compose run the same set."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import yaml
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent


def procfile() -> dict[str, str]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return dict(
        (name.strip(), command.strip())
        for name, command in (
            line.split(":", 1) for line in lines if line.strip() and not line.startswith("#")
        )
    )


def test_production_settings_pass_check_deploy():
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DEBUG", "SECRET_KEY", "BOT_TOKEN_KEYS"}
    }
    env.update(
        SECRET_KEY="x" * 20 + Fernet.generate_key().decode(),
        BOT_TOKEN_KEYS=Fernet.generate_key().decode(),
        ALLOWED_HOSTS="gmbot.example.com",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_refuses_to_start_without_its_secrets():
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY"}}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_procfile_has_every_process_of_the_architecture():
    assert set(procfile()) == {
        "web", "worker_high", "worker_normal", "worker_low", "beat", "flower"
    }  # fmt: skip
    for queue in ("high", "normal", "low"):
        assert re.search(rf"-Q {queue}\b", procfile()[f"worker_{queue}"])


def test_compose_runs_the_procfile_processes_with_postgres_and_redis():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]

    assert {"postgres", "redis"} <= set(services)
    for name, command in procfile().items():
        assert name in services, f"{name} missing from docker-compose.yml"
        # compose escapes $ as $$; once unescaped, the command is the Procfile's own
        assert services[name]["command"] == ["sh", "-c", command.replace("$", "$$")], name


def test_the_image_collects_the_static_files_it_serves():
    # tests/test_static.py runs the same command and serves its output with DEBUG off
    lines = (ROOT / "Dockerfile").read_text().splitlines()
    collect = lines.index("RUN DEBUG=1 python manage.py collectstatic --noinput --verbosity 0")
    user = next(i for i, line in enumerate(lines) if line.startswith("USER "))
    # after the code is in, and before the image drops to its unprivileged user
    assert lines.index("COPY . .") < collect < user


def test_compose_runs_production_settings_whatever_env_says():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    for name in procfile():
        assert compose["services"][name]["environment"]["DEBUG"] == "0", name
