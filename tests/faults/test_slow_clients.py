"""Slow clients against the setup the docs recommend: nginx (deploy/nginx) in front of gunicorn
(issue 10, item 6).

gunicorn runs two sync workers; nginx runs with the project's own server block, only its two
addresses filled in, the way the nginx image fills them in for docker-compose.yml.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from string import Template

import pytest
import requests
import yaml

from tests.conftest import ROOT, free_port, wait_until
from tests.factories import BotFactory

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

WEBHOOK = "/api/webhooks/telegram"
SECRET = "secret-for-the-slow-client-tests"
TEMPLATE = ROOT / "deploy" / "nginx" / "gmbot.conf.template"


class Nginx:
    """nginx in the foreground with a prefix, pid file and temp paths of the test's own."""

    def __init__(self, workdir: Path, upstream: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        server = Template(TEMPLATE.read_text()).safe_substitute(
            GMBOT_WEB=upstream, GMBOT_LISTEN=f"127.0.0.1:{self.port}"
        )
        (workdir / "gmbot.conf").write_text(server)
        kinds = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        temp = "\n".join(f"    {kind}_temp_path {workdir}/{kind};" for kind in kinds)
        (workdir / "nginx.conf").write_text(
            f"daemon off;\nworker_processes 1;\npid {workdir}/nginx.pid;\n"
            f"error_log {workdir}/error.log warn;\nevents {{ worker_connections 256; }}\n"
            f"http {{\n    access_log off;\n{temp}\n    include {workdir}/gmbot.conf;\n}}\n"
        )
        nginx = shutil.which("nginx")
        assert nginx, "nginx is not installed: `make test` installs it (bin/services.sh)"
        self.process = subprocess.Popen(
            [nginx, "-p", str(workdir), "-c", str(workdir / "nginx.conf")],
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
        )  # fmt: skip
        wait_until(self._answers, timeout=10)

    def _answers(self) -> bool:
        try:
            return requests.get(f"{self.url}/live", timeout=1).status_code == 200
        except requests.RequestException:
            return False

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


@pytest.fixture
def proxied(start_web, tmp_path: Path) -> Iterator[Nginx]:
    BotFactory(webhook_secret=SECRET)
    web = start_web(WEB_CONCURRENCY="2")
    nginx = Nginx(tmp_path, f"127.0.0.1:{web.port}")
    yield nginx
    nginx.stop()


def trickle(url: str, stop: threading.Event, body: bool) -> None:
    """A client that sends its request one byte at a time, a quarter of a second apart."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        head = f"POST {WEBHOOK} HTTP/1.1\r\nHost: gmbot\r\nX-Telegram-Bot-Api-Secret-Token: "
        if body:
            head += f"{SECRET}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
            sock.sendall(head.encode())
        payload = (head if not body else "[" * 1000).encode()
        for byte in payload:
            if stop.wait(0.25):
                return
            sock.sendall(bytes([byte]))


def test_slow_clients_do_not_stop_the_webhook_behind_the_recommended_proxy(proxied, redis_client):
    # given eight clients trickling their headers or their bodies, four times gunicorn's workers
    stop = threading.Event()
    slow = [threading.Thread(target=trickle, args=(proxied.url, stop, n % 2 == 0), daemon=True)
            for n in range(8)]  # fmt: skip
    for thread in slow:
        thread.start()
    time.sleep(1)

    try:
        # when Telegram delivers updates meanwhile
        started = time.monotonic()
        statuses = []
        for update_id in range(1, 21):
            update = {"update_id": update_id, "message": {"message_id": 1, "date": 0,
                      "text": "hi", "chat": {"id": 42, "type": "private"}}}  # fmt: skip
            answer = requests.post(f"{proxied.url}{WEBHOOK}", data=json.dumps(update), timeout=3,
                                   headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})  # fmt: skip
            statuses.append(answer.status_code)
        elapsed = time.monotonic() - started
    finally:
        stop.set()

    # then every one is answered at once and queued
    assert statuses == [200] * 20
    assert elapsed < 3, elapsed
    assert redis_client.llen("high") == 20


def test_compose_serves_the_web_process_only_through_this_proxy():
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]

    proxy = services["proxy"]
    assert (
        f"./{TEMPLATE.relative_to(ROOT)}:/etc/nginx/templates/default.conf.template:ro"
        in (proxy["volumes"])
    )
    assert proxy["environment"]["GMBOT_WEB"] == "web:8000"
    assert "ports" not in services["web"]
