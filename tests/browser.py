"""Real Chromium for browser tests: the harness's, Debian's unless $CHROMIUM names another."""

import os
from contextlib import AbstractContextManager

from events import harness

CHROMIUM = os.environ.get("CHROMIUM", harness.CHROMIUM)


def chromium(*extra_args: str) -> AbstractContextManager:
    """A headless Chromium; extra args for fake media devices and the like."""
    return harness.chromium(*extra_args, executable=CHROMIUM)
