"""Browser tests: real headless Chromium (Debian's) driven by Playwright, against live_server."""

from __future__ import annotations

import os
import shutil

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def browser():
    if CHROMIUM is None:
        pytest.skip("Chromium is not installed (apt-get install chromium); browser tests skip")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API refuses to run inside an event loop; Django's async-unsafe check
    # trips on it too, so the browser thread is allowed to use the ORM.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def eager_tasks():
    """Queued tasks run in the live server's thread as soon as their transaction commits."""
    from dashboard.celery import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


@pytest.fixture
def page(browser, live_server, operator, settings):
    context = browser.new_context(base_url=live_server.url, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto("/login/")
    page.fill("#id_username", operator.username)
    page.fill("#id_password", "pw-" + operator.username)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    yield page
    context.close()


# The cluster fixtures (an account, a cluster on tests/kubeapi, a credential, a policy).
from tests.clusters.conftest import account, cluster, credential, policy  # noqa: E402, F401
