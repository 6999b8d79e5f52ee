"""Typed readers for configuration from the environment.

Every variable read here is documented in `.env.example`. An empty value means unset everywhere:
`FLOWER_BASIC_AUTH=` in a copied `.env` is the default, not an empty password.
"""

from __future__ import annotations

import os
from pathlib import Path

from dotenv import dotenv_values

# A `.env` beside manage.py (or the file ENV_FILE names: `make test` names /dev/null, so a local
# .env never leaks into the tests) fills in what the real environment does not set. Loaded here,
# on the first import of this module, so Django settings, celeryconfig, gunicorn.conf.py,
# flowerconfig.py and bin/stack.py (which hands it on to the Procfile's shell commands) read it
# with one parser; make does not read it at all, so quotes and `$` mean one thing everywhere.
# Empty values are left out, not set to "": gunicorn reads WEB_CONCURRENCY itself and fails on
# an empty one in the environment it is handed.
ENV_FILE = Path(os.environ.get("ENV_FILE") or Path(__file__).resolve().parent.parent / ".env")
for _name, _value in dotenv_values(ENV_FILE).items():
    if _value and _name not in os.environ:
        os.environ[_name] = _value

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class ConfigError(SystemExit):
    """A setting a process cannot start with. The message is one sentence naming the variable
    and what to do.

    A SystemExit, as argparse's usage errors are: it ends the process with that sentence and a
    non-zero status instead of a traceback, and the `except Exception` of the frameworks that
    load our settings (Celery's signal dispatch, gunicorn's worker boot) cannot swallow it.
    """

    def __init__(self, sentence: str) -> None:
        super().__init__(sentence)
        self.sentence = sentence

    def __str__(self) -> str:
        return self.sentence


def env(name: str, default: str = "") -> str:
    raw = os.environ.get(name, "").strip()
    return raw or default


def envbool(name: str, default: bool = False) -> bool:
    value = env(name).lower()
    if not value:
        return default
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(f"{name} must be 1 or 0 (or true/false, yes/no, on/off), not {value!r}.")


def envint(name: str, default: int) -> int:
    value = env(name)
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {value!r}.") from None


def envfloat(name: str, default: float) -> float:
    value = env(name)
    if not value:
        return default
    try:
        return float(value)
    except ValueError:
        raise ConfigError(f"{name} must be a number, not {value!r}.") from None


def envlist(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]
