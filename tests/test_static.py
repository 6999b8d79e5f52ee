"""The admin's stylesheets come through gunicorn (WhiteNoise) in both modes the README
documents: DEBUG on as `make demo` runs it, and DEBUG off from `collectstatic`'s compressed,
content-hashed files as the Docker image runs it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import requests
from cryptography.fernet import Fernet

from tests.conftest import ROOT, child_env


def test_the_admin_stylesheet_is_served_through_gunicorn_with_debug_on(start_web):
    web = start_web(DEBUG="1")

    answer = requests.get(f"{web.url}/static/admin/css/base.css", timeout=5)

    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/css")
    assert "Not Found: /static/" not in web.log.read_text()


def test_with_debug_off_the_admin_links_collected_hashed_and_compressed_files(
    start_web, tmp_path: Path
):
    # given production settings and the static files collected as the Docker image does
    production = {
        "DEBUG": "0",
        "SECRET_KEY": "static-test-" + Fernet.generate_key().decode(),
        "BOT_TOKEN_KEYS": Fernet.generate_key().decode(),
        "STATIC_ROOT": str(tmp_path / "static"),
    }
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
        cwd=ROOT, env=child_env(**production), check=True, timeout=120,
    )  # fmt: skip
    web = start_web(**production)
    https = {"X-Forwarded-Proto": "https"}  # as the TLS-terminating proxy says

    # when the login page is fetched, then the stylesheet it links
    page = requests.get(f"{web.url}/admin/login/", headers=https, timeout=5)
    stylesheet = re.search(r'href="(/static/admin/css/base\.[0-9a-f]{12}\.css)"', page.text)
    assert page.status_code == 200 and stylesheet, page.text[:500]
    answer = requests.get(
        web.url + stylesheet[1], headers={**https, "Accept-Encoding": "gzip"}, timeout=5
    )

    # then it comes compressed, and may be cached for ever since its name changes with it
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/css")
    assert answer.headers["Content-Encoding"] == "gzip"
    assert "immutable" in answer.headers["Cache-Control"]
