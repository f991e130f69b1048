"""daphne through `python -m config.serve` (as `make run` and the README start it): its access log
and everything else it prints show keyed paths with the key replaced by "…", over HTTP and
WebSockets alike."""

import time
import urllib.error
import urllib.request

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from events.access import new_access_key
from events.models import Presenter
from events.registration import register
from tests.factories import make_event
from tests.live import running_server

pytestmark = [pytest.mark.live, pytest.mark.timeout(120)]


def status_of(url: str, method: str = "GET") -> int:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method=method), timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def open_and_close(base: str, path: str) -> None:
    origin = base
    try:
        with connect(base.replace("http://", "ws://") + path, additional_headers={"Origin": origin}, open_timeout=10):
            time.sleep(0.2)
    except InvalidStatus:
        pass  # refused at the handshake: daphne logs WSREJECT with the path


@pytest.mark.django_db(transaction=True)
def test_the_access_log_prints_keyed_paths_without_their_keys(tmp_path, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True  # the registration's mail is sent here, not left on the shared broker
    event = make_event("logged", title="Logged")
    registration = register(event, name="Reg", email="reg@example.com")
    presenter = Presenter.objects.create(event=event, name="Pia", position=1)
    join_key, presenter_key, wrong = registration.access_key, presenter.access_key, new_access_key()
    e, p, r, line = event.pk, presenter.pk, registration.pk, presenter.line_id

    with running_server(HLS_ROOT=str(tmp_path)) as base:
        assert status_of(f"{base}/join/{r}/{join_key}/") == 200  # redirected to the webcast page
        assert status_of(f"{base}/join/{r}/{wrong}/") == 404
        assert status_of(f"{base}/join/{r}/{join_key}/cancel/") == 200
        assert status_of(f"{base}/join/{r}/{join_key}/", "PUT") == 405
        assert status_of(f"{base}/greenroom/{p}/{presenter_key}/") == 200
        assert status_of(f"{base}/greenroom/{p}/{presenter_key}/", "POST") == 405
        assert status_of(f"{base}/greenroom/{p}/{presenter_key}/extra/") == 404  # no route: Django logs it
        assert status_of(f"{base}/hls/{e}/private/{p}/{presenter_key}/live.m3u8") == 404  # no rehearsal yet
        assert status_of(f"{base}/hls/{e}/private/{p}/{wrong}/live.m3u8") == 404
        open_and_close(base, f"/ws/events/{e}/greenroom/{p}/{presenter_key}/")
        open_and_close(base, f"/ws/events/{e}/lines/{line}/uplink/{p}/{presenter_key}/")
        open_and_close(base, f"/ws/events/{e}/greenroom/{p}/{wrong}/")
        time.sleep(0.5)  # the disconnections are logged after the sockets close
    printed = (tmp_path / "server.log").read_text()

    for key in (join_key, presenter_key, wrong):
        assert key not in printed
    for line_printed in (
        f'"GET /join/{r}/…/" 302',
        f'"GET /join/{r}/…/" 404',
        f'"GET /join/{r}/…/cancel/" 200',
        f'"PUT /join/{r}/…/" 405',
        f'"GET /greenroom/{p}/…/" 200',
        f'"POST /greenroom/{p}/…/" 405',
        f'"GET /hls/{e}/private/{p}/…/live.m3u8" 404',
        f'"WSCONNECTING /ws/events/{e}/greenroom/{p}/…/"',
        f'"WSCONNECTING /ws/events/{e}/lines/{line}/uplink/{p}/…/"',
        f'"WSDISCONNECT /ws/events/{e}/greenroom/{p}/…/"',
        f"Not Found: /greenroom/{p}/…/…/",  # "extra" could be a mangled key too
    ):
        assert line_printed in printed, line_printed
