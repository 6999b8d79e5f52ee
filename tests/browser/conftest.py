"""The browser tests drive Debian's chromium (`make test` installs it with apt-get, the way it
installs PostgreSQL); playwright never downloads a browser of its own. Kept off the network:
no background requests, no component updates, no sync, no QUIC.

Playwright's sync API runs an asyncio event loop in the tests' thread for as long as it is
started. It is started here for this directory's tests only and stopped after them: while it
runs, Django takes every query for one made from async code, and no other test could run an
event loop of its own (aiogram's, the sandbox's clients).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM = "/usr/bin/chromium"
OFFLINE = [
    "--no-sandbox",  # the tests run as root, where chromium's sandbox refuses to start
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="module")
def browser(django_db_setup: None) -> Iterator[Browser]:
    """Chromium, started once the test database exists (so it is made, and at the end dropped,
    outside playwright's event loop), stopped when the module's tests are done."""
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        # The tests' own queries, and the flush after each, are plain synchronous ones.
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                              args=OFFLINE)  # fmt: skip
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser context (no cookies, no storage) and a page in it, for one test."""
    context = browser.new_context()
    yield context.new_page()
    context.close()
