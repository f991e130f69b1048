"""Shared fixtures. The suite runs against whatever DATABASE_URL and REDIS_URL say: PostgreSQL and
Redis in the test command's first pass, the embedded default (SQLite, in-memory layer) in its
second."""

import os
import uuid

import pytest
from django.conf import settings
from django.core.management import call_command

from events import attendance, form_cache, ratelimit
from stage import tally

# WebRTC in tests stays on loopback: no ICE server, the mixer offers 127.0.0.1 only and tries only
# 127.0.0.0/8 candidates. Set here so every server and mixer a test starts inherits it (tests/live.py
# and the harness pass os.environ on); `_loopback_rtc` sets the same for this process, whose
# settings were read before this file.
LOOPBACK_RTC = {"RTC_ICE_SERVERS": "[]", "RTC_HOST_ADDRESSES": "127.0.0.1", "RTC_CANDIDATE_NETWORKS": "127.0.0.0/8"}
os.environ.update(LOOPBACK_RTC)
# No off-air monitor beside every live test's mixer: the monitor's own tests turn it on.
os.environ.setdefault("OFF_AIR_ENABLED", "false")
# This process runs mixers, lease holders and stage threads of its own beside its tests, each
# thread with its pooled connection; late in the first pass the in-process mixer of
# tests/streaming_web/test_replay.py found the pool's 8 taken (PoolTimeout, 2026-12-08, not
# understood: not reproduced with the tests that ran before it). Only this process: the servers
# the tests start keep the default.
_pool = settings.DATABASES["default"].get("OPTIONS", {}).get("pool")
if isinstance(_pool, dict):
    _pool["max_size"] = 16


@pytest.fixture(scope="session", autouse=True)
def _collected_static():
    """Pages name their assets through the static manifest, as in production."""
    call_command("collectstatic", interactive=False, verbosity=0)


@pytest.fixture(autouse=True)
def _no_mixer_autostart_in_process(settings):
    """Tests in this process never spawn mixers or off-air monitors behind their back; live tests
    run a real server."""
    settings.MIXER_AUTOSTART = False
    settings.OFF_AIR_ENABLED = False


@pytest.fixture(autouse=True)
def _quiet_heartbeats(settings):
    """In-process stage sockets hear no heartbeat unless a test asks for them, so a test waiting
    for a message need not step over one (servers a test starts keep the default period)."""
    settings.STAGE_HEARTBEAT_SECONDS = 3600


@pytest.fixture(autouse=True)
def _own_cache_keys(monkeypatch, request):
    """Each test counts its own rate-limit hits, presence beats and armed vote recounts, also on a
    Redis others share (wrong keys on green rooms and private HLS files count too, not only in the events tests)."""
    if request.node.get_closest_marker("live"):
        return  # a live server process uses the real keys
    tag = uuid.uuid4().hex[:10]
    monkeypatch.setattr(ratelimit, "KEY_PREFIX", f"test-{tag}-ratelimit")
    monkeypatch.setattr(attendance, "KEY_PREFIX", f"test-{tag}-presence")
    monkeypatch.setattr(tally, "KEY_PREFIX", f"test-{tag}-tally")


@pytest.fixture(autouse=True)
def _fresh_form_definitions():
    """A slug kept by the form cache in one test may name another event in the next."""
    form_cache.forget()


@pytest.fixture(autouse=True)
def _loopback_rtc(settings):
    settings.RTC_ICE_SERVERS = settings.RTC_BROWSER_ICE_SERVERS = []
    settings.RTC_HOST_ADDRESSES = ["127.0.0.1"]
    settings.RTC_CANDIDATE_NETWORKS = ["127.0.0.0/8"]


@pytest.fixture
def hls_root(tmp_path, settings):
    root = tmp_path / "hls"
    root.mkdir()
    settings.HLS_ROOT = root
    return root


def scaled_out() -> bool:
    return bool(settings.REDIS_URL)
