"""Real Chromium (Debian's) driven by Playwright, for browser tests. Never a downloaded browser."""

import os
import time
from contextlib import contextmanager

from django.db import connections
from playwright.sync_api import sync_playwright

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--autoplay-policy=no-user-gesture-required",
]


@contextmanager
def chromium(*extra_args: str):
    """A headless Chromium; extra args for fake media devices and the like."""
    # Playwright's sync API runs an event loop in this thread; ORM calls in the test stay safe
    # because they are plain blocking calls made between Playwright calls.
    # Only for the duration of the browser: servers the test starts later must keep the check.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, *extra_args])
            try:
                yield browser
            finally:
                browser.close()
                # ORM calls made while Playwright's loop ran got connections of their own (Django's
                # are per context); pytest-django closes only the test's, and a pooled one left
                # open keeps the test database from being dropped at the end of the run.
                connections.close_all()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


def wait_for_script(page, expression: str, timeout: float = 30_000):
    """page.wait_for_function for pages under the Content-Security-Policy: Playwright's polling
    runs the expression through eval(), which script-src 'self' refuses, while page.evaluate goes
    through DevTools, which no page policy governs. Returns the first truthy value; timeout in ms."""
    deadline = time.monotonic() + timeout / 1000
    while True:
        value = page.evaluate(expression)
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout} ms waiting for {expression}")
        page.wait_for_timeout(50)  # lets Playwright dispatch the page's events meanwhile
