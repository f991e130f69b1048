"""Real Chromium for browser tests: the harness's, Debian's unless $CHROMIUM names another."""

import os
import time
from contextlib import AbstractContextManager

from events import harness

CHROMIUM = os.environ.get("CHROMIUM", harness.CHROMIUM)


def chromium(*extra_args: str) -> AbstractContextManager:
    """A headless Chromium; extra args for fake media devices and the like."""
    return harness.chromium(*extra_args, executable=CHROMIUM)


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
