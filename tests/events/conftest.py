"""Fixtures for the event domain's tests."""

import uuid

import pytest

from events import attendance, ratelimit


@pytest.fixture(autouse=True)
def _own_cache_keys(monkeypatch, request):
    """Each test counts its own rate-limit hits and presence beats, also on a Redis others share."""
    if request.node.get_closest_marker("live"):
        return  # a live server process uses the real keys
    tag = uuid.uuid4().hex[:10]
    monkeypatch.setattr(ratelimit, "KEY_PREFIX", f"test-{tag}-ratelimit")
    monkeypatch.setattr(attendance, "KEY_PREFIX", f"test-{tag}-presence")


@pytest.fixture(autouse=True)
def _tasks_run_inline(settings, request):
    """Outside live tests, Celery tasks run in the test (mail lands in mail.outbox) and raise."""
    if request.node.get_closest_marker("live"):
        return
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.CELERY_TASK_EAGER_PROPAGATES = True
