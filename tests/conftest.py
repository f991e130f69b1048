"""Shared fixtures. The suite runs against whatever DATABASE_URL and REDIS_URL say: PostgreSQL and
Redis in the test command's first pass, the embedded default (SQLite, in-memory layer) in its
second."""

import uuid

import pytest
from django.conf import settings
from django.core.management import call_command

from events import attendance, ratelimit


@pytest.fixture(scope="session", autouse=True)
def _collected_static():
    """Pages name their assets through the static manifest, as in production."""
    call_command("collectstatic", interactive=False, verbosity=0)


@pytest.fixture(autouse=True)
def _own_cache_keys(monkeypatch, request):
    """Each test counts its own rate-limit hits and presence beats, also on a Redis others share."""
    if request.node.get_closest_marker("live"):
        return  # a live server process uses the real keys
    tag = uuid.uuid4().hex[:10]
    monkeypatch.setattr(ratelimit, "KEY_PREFIX", f"test-{tag}-ratelimit")
    monkeypatch.setattr(attendance, "KEY_PREFIX", f"test-{tag}-presence")


@pytest.fixture(autouse=True)
def _no_mixer_autostart_in_process(settings):
    """Tests in this process never spawn mixers behind their back; live tests run a real server."""
    settings.MIXER_AUTOSTART = False


@pytest.fixture(autouse=True)
def _own_cache_keys(monkeypatch, request):
    """Each test counts its own rate-limit hits and presence beats, also on a Redis others share
    (wrong keys on green rooms and private HLS files count too, not only in the events tests)."""
    if request.node.get_closest_marker("live"):
        return  # a live server process uses the real keys
    tag = uuid.uuid4().hex[:10]
    monkeypatch.setattr(ratelimit, "KEY_PREFIX", f"test-{tag}-ratelimit")
    monkeypatch.setattr(attendance, "KEY_PREFIX", f"test-{tag}-presence")


@pytest.fixture
def hls_root(tmp_path, settings):
    root = tmp_path / "hls"
    root.mkdir()
    settings.HLS_ROOT = root
    return root


def scaled_out() -> bool:
    return bool(settings.REDIS_URL)
