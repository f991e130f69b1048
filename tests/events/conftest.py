"""Fixtures for the event domain's tests."""

import pytest


@pytest.fixture(autouse=True)
def _tasks_run_inline(settings, request):
    """Outside live tests, Celery tasks run in the test (mail lands in mail.outbox) and raise."""
    if request.node.get_closest_marker("live"):
        return
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.CELERY_TASK_EAGER_PROPAGATES = True
