"""Sentry (SPEC O4): a worker with SENTRY_DSN reports a failed job to a Sentry endpoint of the
test's own, and no bot token reaches it: not in URLs, breadcrumbs or the exception's text."""

from __future__ import annotations

import gzip
import threading
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from apps.bots.services import forget_cached_bots
from apps.ops.models import DeadLetter
from tests.conftest import wait_until
from tests.factories import BotFactory

BOT_ID = 7_100_000_888
TOKEN = f"{BOT_ID}:AAHsentryCanarySENTRYcanary0123456789"
SECRET = "webhook-secret-for-the-sentry-test"


class FakeSentry:
    """What a Sentry server receives: each envelope's body, decompressed."""

    def __init__(self) -> None:
        self.envelopes: list[str] = []
        received = self.envelopes

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                encoding = self.headers.get("Content-Encoding", "")
                if encoding == "gzip":
                    body = gzip.decompress(body)
                elif encoding == "deflate":
                    body = zlib.decompress(body)
                elif encoding == "br":
                    import brotli  # only when sentry-sdk found it installed

                    body = brotli.decompress(body)
                received.append(body.decode("utf-8", "replace"))
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.dsn = f"http://publickey@127.0.0.1:{self.server.server_address[1]}/1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()


@pytest.fixture
def fake_sentry() -> Iterator[FakeSentry]:
    server = FakeSentry()
    yield server
    server.stop()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_failed_job_reaches_sentry_with_every_bot_token_hidden(
    fake_sentry, sandbox, client, start_worker
):
    # given a worker reporting to Sentry, and a bot whose answer Telegram refuses for good with a
    # description that quotes its token (the worst a library's error text could do)
    forget_cached_bots()
    sandbox.create_bot(token=TOKEN, username="gm_sentry_bot")
    bot = BotFactory(telegram_id=BOT_ID, username="gm_sentry_bot", token=TOKEN,
                     webhook_secret=SECRET)  # fmt: skip
    start_worker(["high"], SENTRY_DSN=fake_sentry.dsn, SENTRY_TRACES_SAMPLE_RATE="1.0")
    ann = sandbox.create_user("Ann")["id"]
    sandbox.start(ann, bot.username)
    refusal = f"Bad Request: chat not found for /bot{TOKEN}/sendMessage"
    sandbox.fault("sendMessage", error_code=400, description=refusal, times=1)

    # when her /help is answered by the worker and the answer is refused
    action = sandbox.message(ann, None, "/help", bot=bot.username)
    [update] = [e["update"] for e in sandbox.updates() if e["update_id"] in action["update_ids"]]
    answer = client.post("/api/webhooks/telegram", data=update, content_type="application/json",
                         HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN=SECRET)  # fmt: skip
    assert answer.status_code == 200
    wait_until(lambda: DeadLetter.objects.exists())
    wait_until(lambda: any('"type":"event"' in e for e in fake_sentry.envelopes), timeout=20)

    # then Sentry got the error, its text and the HTTP breadcrumb with the token hidden
    sent = "\n".join(fake_sentry.envelopes)
    assert "chat not found" in sent
    assert f"/bot{BOT_ID}:" not in sent and TOKEN.split(":")[1] not in sent
    assert "/bot<bot token>/sendMessage" in sent
