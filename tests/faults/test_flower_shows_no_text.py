"""What Flower shows of jobs that carry an update, message text included (issue 10, item 8).

Real Flower, a real worker on `high`, the sandbox: one update's answer is refused with a 429 so
its job is retried (held by the worker until then), another's is refused for good so its job is
dead-lettered and replayed. Everything Flower's API serves about tasks and workers is searched
for the users' words.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest
import requests

from apps.bots.services import forget_cached_bots
from apps.ops.models import DeadLetter
from tests.conftest import ROOT, child_env, free_port, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

LOGIN = ("ops", "flower-test-password")
WORDS = "words-only-the-user-should-see"
SECRET = "secret-for-the-flower-test"


class Flower:
    def __init__(self, log_path) -> None:
        self.url = f"http://127.0.0.1:{free_port()}"
        self._log = open(log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "gmbot", "flower", "--conf=flowerconfig.py"],
            cwd=ROOT, stdout=self._log, stderr=subprocess.STDOUT,
            env=child_env(FLOWER_ADDRESS="127.0.0.1", FLOWER_PORT=self.url.rsplit(":", 1)[1],
                          FLOWER_BASIC_AUTH=":".join(LOGIN), FLOWER_INSPECT_TIMEOUT="2000"),
        )  # fmt: skip
        wait_until(self._answers, timeout=30)

    def _answers(self) -> bool:
        try:
            return requests.get(f"{self.url}/healthcheck", timeout=1).status_code == 200
        except requests.RequestException:
            return False

    def api(self, path: str) -> str:
        answer = requests.get(f"{self.url}/api/{path}", auth=LOGIN, timeout=10)
        assert answer.status_code == 200, answer.text
        return answer.text

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=15)
        self._log.close()


@pytest.fixture
def flower(tmp_path) -> Iterator[Flower]:
    flower = Flower(tmp_path / "flower.log")
    yield flower
    flower.stop()


def deliver(client, sandbox, bot, action: dict) -> None:
    ids = set(action["update_ids"])
    for entry in sandbox.updates():
        if entry["update_id"] in ids:
            answer = client.post("/api/webhooks/telegram", data=entry["update"],
                                 content_type="application/json",
                                 HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN=SECRET)  # fmt: skip
            assert answer.status_code == 200


def test_flower_shows_no_message_text_of_retried_held_or_replayed_jobs(
    flower, client, admin_client, sandbox, make_bot, start_worker
):
    # given a bot's user, Flower watching a worker on high
    forget_cached_bots()
    bot = make_bot(webhook_secret=SECRET)
    ann = sandbox.create_user("Ann")["id"]
    sandbox.start(ann, bot.username)
    # (task events are off on high by default, for its CPU; an operator who turns them on for
    # Flower's live view must still see no text)
    worker = start_worker(["high"], CELERY_TASK_EVENTS="1")
    inspected = f"workers?refresh=1&workername={worker.hostname}"
    seen: list[str] = []

    def look() -> None:
        seen.extend([flower.api("tasks"), flower.api(inspected)])

    # when an answer is refused with a 429 and its job held for the retry, Flower looking on
    sandbox.fault("sendMessage", error_code=429, retry_after=8, times=1)
    deliver(client, sandbox, bot, sandbox.message(ann, None, f"/help {WORDS}", bot=bot.username))
    wait_until(lambda: '"scheduled": [{' in flower.api(inspected), timeout=15)
    look()

    # and another is refused for good, dead-lettered, and replayed
    sandbox.fault("sendMessage", error_code=400, description="Bad Request: chat not found",
                  times=1)  # fmt: skip
    deliver(client, sandbox, bot, sandbox.message(ann, None, f"/help {WORDS}", bot=bot.username))
    letter = wait_until(lambda: DeadLetter.objects.first(), timeout=15)
    admin_client.post("/admin/dlq/high/replay", {"ids": [letter.pk]},
                      content_type="application/json")  # fmt: skip
    wait_until(lambda: len(sandbox.calls(method="sendMessage", chat_id=ann)) == 4, timeout=20)
    wait_until(lambda: flower.api("tasks").count('"state": "SUCCESS"') == 2, timeout=10)
    look()

    # then Flower showed those jobs, by bot and update id, and never the user's words
    assert not [page for page in seen if WORDS in page]
    tasks_held, worker_holding, tasks_at_the_end = seen[0], seen[1], seen[2]
    shown = f'"args": "(bot={bot.pk}, update_id='
    assert shown in tasks_held and shown in worker_holding
    assert tasks_at_the_end.count(shown) == 3  # the retried job, the dead one, its replay
