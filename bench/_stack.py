"""What the benchmarks that run GMBot's own processes share: the environment and a free port."""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path


def production_env(database: str, redis_url: str, **extra: str) -> dict[str, str]:
    """Settings as in production (DEBUG off, fresh keys) on loopback, with the benchmark's own
    database and Redis database, so a run never touches the local stack's data."""
    from cryptography.fernet import Fernet

    return dict(
        os.environ,
        PATH=str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""),
        DEBUG="0",
        SECRET_KEY="bench-" + Fernet.generate_key().decode(),
        BOT_TOKEN_KEYS=Fernet.generate_key().decode(),
        SECURE_SSL_REDIRECT="0",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{database}",
        REDIS_URL=redis_url,
        CELERY_BROKER_URL="",
        CELERY_RESULT_BACKEND="",
        LOG_LEVEL="WARNING",
        **extra,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
