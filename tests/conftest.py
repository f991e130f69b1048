"""Shared fixtures. The suite runs against whatever DATABASE_URL and REDIS_URL say: PostgreSQL and
Redis in the test command's first pass, the embedded default (SQLite, in-memory layer) in its
second."""

import pytest
from django.conf import settings
from django.core.management import call_command


@pytest.fixture(scope="session", autouse=True)
def _collected_static():
    """Pages name their assets through the static manifest, as in production."""
    call_command("collectstatic", interactive=False, verbosity=0)


@pytest.fixture(autouse=True)
def _no_mixer_autostart_in_process(settings):
    """Tests in this process never spawn mixers behind their back; live tests run a real server."""
    settings.MIXER_AUTOSTART = False


@pytest.fixture
def hls_root(tmp_path, settings):
    root = tmp_path / "hls"
    root.mkdir()
    settings.HLS_ROOT = root
    return root


def scaled_out() -> bool:
    return bool(settings.REDIS_URL)
