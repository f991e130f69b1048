"""Client addresses behind a proxy (research S12): the rate limiter counts REMOTE_ADDR, so daphne may
take the client's address from X-Forwarded-For only when a proxy is in front (BEHIND_PROXY=true,
which makes config.serve pass --proxy-headers); straight at daphne, a forged header changes nothing."""

import http.client
import os
import subprocess
import sys
import time

import pytest
from django.conf import settings

from events import ratelimit
from events.access import new_access_key
from events.registration import register
from tests.factories import make_event
from tests.live import running_server

pytestmark = [pytest.mark.live, pytest.mark.timeout(120)]


def get(base: str, path: str, *, source: str, forwarded_for: str) -> http.client.HTTPResponse:
    """GET from a loopback address of our choice, claiming to forward for `forwarded_for` over https."""
    host, port = base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10, source_address=(source, 0))
    headers = {"X-Forwarded-For": forwarded_for, "X-Forwarded-Proto": "https"}
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    response.read()
    connection.close()
    return response


def fresh_window(limit: ratelimit.Limit, needed: float = 8) -> None:
    """Wait for the limiter's next window if this one ends within `needed` seconds: attempts split
    over two fixed windows would not add up."""
    left = limit.seconds - time.time() % limit.seconds
    if left < needed:
        time.sleep(left + 0.1)


@pytest.fixture
def registration(transactional_db, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True  # its mail is sent here, not left on the shared broker
    return register(make_event("proxied"), name="Pat", email="pat@example.com")


def test_straight_at_daphne_forged_forwarding_headers_are_ignored(registration, tmp_path):
    wrong = f"/join/{registration.pk}/{new_access_key()}/"
    with running_server(HLS_ROOT=str(tmp_path), PLAIN_HTTP="false") as base:
        fresh_window(ratelimit.BAD_LINKS)
        for i in range(ratelimit.BAD_LINKS.count):
            response = get(base, wrong, source="127.0.0.9", forwarded_for=f"203.0.113.{i}")
            assert response.status == 404
            assert response.getheader("Strict-Transport-Security") is None  # the https claim is ignored too
        # Every attempt counted against 127.0.0.9, whatever address it claimed.
        right = registration.get_join_url()
        assert get(base, right, source="127.0.0.9", forwarded_for="203.0.113.200").status == 429
        assert get(base, right, source="127.0.0.1", forwarded_for="203.0.113.200").status == 302


def test_behind_the_proxy_each_client_is_counted_by_its_own_address(registration, tmp_path):
    wrong = f"/join/{registration.pk}/{new_access_key()}/"
    with running_server(HLS_ROOT=str(tmp_path), PLAIN_HTTP="false", BEHIND_PROXY="true") as base:
        fresh_window(ratelimit.BAD_LINKS)
        for _ in range(ratelimit.BAD_LINKS.count):
            response = get(base, wrong, source="127.0.0.1", forwarded_for="203.0.113.5")
            assert response.status == 404
        assert response.getheader("Strict-Transport-Security", "").startswith("max-age=31536000")
        right = registration.get_join_url()
        assert get(base, right, source="127.0.0.1", forwarded_for="203.0.113.5").status == 429
        assert get(base, right, source="127.0.0.1", forwarded_for="203.0.113.6").status == 302
    assert "203.0.113.5" in (tmp_path / "server.log").read_text()  # the access log shows the client


def test_proxy_headers_without_behind_proxy_are_refused(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("BEHIND_PROXY", "DJANGO_ALLOW_ASYNC_UNSAFE")}
    env |= {"VAR_DIR": str(tmp_path / "var"), "DJANGO_SETTINGS_MODULE": "config.settings"}
    result = subprocess.run(
        [sys.executable, "-m", "config.serve", "--proxy-headers", "-p", "0", "config.asgi:application"],
        cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 1
    assert "set BEHIND_PROXY=true" in result.stderr
