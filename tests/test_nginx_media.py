"""nginx at scale serves the webcast's files with the same protection, types and caching as the
embedded default's Django view: a real nginx on loopback, configured by `manage.py nginx_config`
from the repository's template, in front of a live Django that issues the passes."""

import http.client
import os
import re
import select
import shutil
import socket
import subprocess
import time
from contextlib import closing, contextmanager
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client

from events import harness
from events.harness import database_url, free_port, wait_for
from streaming import passes
from streaming.core import media_pass
from streaming.core.envelopes import ENVELOPE_FILE
from streaming.core.playlist import PlaylistWriter
from streaming.nginx import standalone
from streaming.off_air_viewer import StreamViewer, ViewerError
from tests.factories import make_event, make_producer
from tests.media import PASS_COOKIE, get_pass
from tests.streaming.test_core_playlist_parts import PART, publish, publish_parts

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(60)]

NGINX = shutil.which("nginx", path=os.environ.get("PATH", "") + ":/usr/sbin") or "nginx"
FILES = {
    "live.m3u8": b"#EXTM3U\n#EXT-X-TARGETDURATION:2\n",
    "segment_000001.ts": b"\x47" * 188 * 4,
    "program.m4a": bytes(range(256)) * 4,
    "chapters.vtt": "WEBVTT\n\n1\n00:00:00.000 --> 00:00:01.000\nAda Lovelace – intro\n".encode(),
    "chapters.json": b'{"chapters": []}',
}
CSRF_TOKEN = "c" * 32
# How often a blocking reload waiting behind another's looks for its answer: the lock's age in the
# template (the test below reads it there).
TEMPLATE = Path(__file__).resolve().parents[1] / "config" / "nginx" / "webcast.conf.template"
LOCK_AGE_S = int(re.search(r"proxy_cache_lock_age (\d+)ms;", TEMPLATE.read_text())[1]) / 1000
VIEWERS_WAITING = 24


@contextmanager
def running_nginx(folder: Path, upstream: str, socket_upstreams: tuple[str, ...] = ()):
    """nginx on a free loopback port, configured by `manage.py nginx_config` to proxy to `upstream`
    (and the daphnes' paths to `socket_upstreams`, if any); its port."""
    folder.mkdir()
    port = free_port()
    site_conf = folder / "webcast.conf"
    call_command("nginx_config", listen=f"127.0.0.1:{port}", upstream=[upstream], output=str(site_conf),
                 cache_dir=str(folder / "cache"), socket_upstream=list(socket_upstreams) or None)
    assert site_conf.stat().st_mode & 0o777 == 0o600
    # Root starts nginx's workers as "nobody", who could not read pytest's private folders.
    config = standalone(str(folder), str(site_conf), as_root=os.geteuid() == 0, connections=64)
    (folder / "nginx.conf").write_text(config)
    process = subprocess.Popen(
        [NGINX, "-p", str(folder), "-c", str(folder / "nginx.conf"), "-e", str(folder / "error.log")],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    try:
        wait_for(lambda: process.poll() is not None or answers(port), 10, "nginx listening")
        assert process.poll() is None, process.stderr.read().decode()
        yield port
    finally:
        process.terminate()
        process.wait(10)


@pytest.fixture
def nginx(tmp_path, hls_root, live_server):
    """nginx in front of the live server."""
    with running_nginx(tmp_path / "nginx", live_server.url.removeprefix("http://")) as port:
        yield port


def answers(port: int) -> bool:
    try:
        request(port, "GET", "/hls/0/none.ts")
    except OSError:
        return False
    return True


def request(port: int, method: str, path: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
    with closing(http.client.HTTPConnection("127.0.0.1", port, timeout=10)) as connection:
        connection.request(method, path, body=b"" if method == "POST" else None, headers=headers or {})
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()


def with_pass(value: str, **headers) -> dict:
    return {"Cookie": f"{PASS_COOKIE}={value}"} | headers


@pytest.fixture
def event(hls_root):
    event = make_event()
    directory = hls_root / str(event.pk)
    directory.mkdir()
    for name, content in FILES.items():
        (directory / name).write_bytes(content)
    return event


@pytest.fixture
def producer(event):
    """A signed-in producer of the event: a Django test client and its session cookie."""
    client = Client()
    client.force_login(make_producer(event))
    return client


def pass_through_nginx(port: int, client: Client, event_id: int) -> str:
    """The pass as a page gets it: POSTed through nginx to Django, with the session and CSRF token."""
    cookie = f"sessionid={client.cookies['sessionid'].value}; csrftoken={CSRF_TOKEN}"
    status, headers, _ = request(port, "POST", f"/hls/{event_id}/pass/",
                                 {"Cookie": cookie, "X-CSRFToken": CSRF_TOKEN, "Content-Type": "application/json"})
    assert status == 204
    assert f"Path=/hls/{event_id}/" in headers["set-cookie"]
    return headers["set-cookie"].split(";")[0].removeprefix(f"{PASS_COOKIE}=")


def test_nginx_serves_every_file_to_a_pass_holder_as_django_does(nginx, event, producer, settings):
    value = pass_through_nginx(nginx, producer, event.pk)
    get_pass(producer, event.pk)  # the same holder's pass for the Django view, to compare with
    for name, content in FILES.items():
        status, headers, body = request(nginx, "GET", f"/hls/{event.pk}/{name}", with_pass(value))
        django = producer.get(f"/hls/{event.pk}/{name}")
        assert (status, body) == (200, content), name
        assert headers["content-type"] == django["Content-Type"], name
        assert headers["cache-control"] == django["Cache-Control"], name
        assert "etag" not in headers
    _, headers, _ = request(nginx, "GET", f"/hls/{event.pk}/program.m4a", with_pass(value))
    assert headers["content-disposition"] == f'attachment; filename="event-{event.pk}.m4a"'
    status, headers, body = request(nginx, "GET", f"/hls/{event.pk}/program.m4a", with_pass(value, Range="bytes=0-99"))
    assert (status, headers["content-range"], body) == (206, "bytes 0-99/1024", bytes(range(100)))
    # A pass holder asking for a file that is not there: not found, as from Django.
    assert request(nginx, "GET", f"/hls/{event.pk}/segment_000002.ts", with_pass(value))[0] == 404
    # Names the files' location does not take go to Django, which answers them as the view does.
    assert request(nginx, "GET", f"/hls/{event.pk}/playlist_state.json", with_pass(value))[0] == 404
    # The off-air monitor reads through nginx as a viewer does, with a pass of its own making; the
    # mixer's record of its lines is not public.
    viewer = StreamViewer(f"http://127.0.0.1:{nginx}", event.pk, secret=settings.HLS_PASS_SECRET, pass_seconds=60,
                          timeout=5)
    assert (viewer.get(), viewer.get("segment_000001.ts")) == (FILES["live.m3u8"], FILES["segment_000001.ts"])
    (Path(settings.HLS_ROOT) / str(event.pk) / ENVELOPE_FILE).write_text("{}\n")
    with pytest.raises(ViewerError, match="HTTP 404"):
        viewer.get(ENVELOPE_FILE)


def forged(event_id: int, expires: int, secret: str) -> str:
    return f"{expires}~{media_pass.signature(expires, f'/hls/{event_id}/', secret)}"


def test_nginx_refuses_without_a_valid_pass_for_the_event(nginx, event, producer, settings):
    other = make_event(slug="other")
    (Path(settings.HLS_ROOT) / str(other.pk)).mkdir()
    other.producers.add(producer.session["_auth_user_id"])
    value = pass_through_nginx(nginx, producer, event.pk)
    other_value = pass_through_nginx(nginx, producer, other.pk)
    now = int(passes.clock())
    expires, signature = value.split("~")
    # The first character: the last of 22 base64 characters carries 2 bits of the MD5 and 4 that
    # decoding drops, so changing it can leave the signature the same (a flaky 200).
    tampered = ("B" if signature[0] != "B" else "C") + signature[1:]
    refused = {
        "no pass": {},
        "garbage": with_pass("garbage"),
        "expired": with_pass(forged(event.pk, now - 1, settings.HLS_PASS_SECRET)),
        "wrong signature": with_pass(f"{expires}~{tampered}"),
        "expiry moved on": with_pass(f"{int(expires) + 3600}~{signature}"),
        "another event's": with_pass(other_value),
        "another secret's": with_pass(forged(event.pk, now + 60, "x" * 40)),
    }
    for name in ("live.m3u8", "segment_000001.ts", "program.m4a", "chapters.json"):
        assert request(nginx, "GET", f"/hls/{event.pk}/{name}", with_pass(value))[0] == 200  # the control
        for why, headers in refused.items():
            assert request(nginx, "GET", f"/hls/{event.pk}/{name}", headers)[0] == 403, (name, why)


@pytest.fixture
def slides(tmp_path, settings, event):
    """A rendered deck's files (any bytes will do: nginx and Django only serve them)."""
    settings.SLIDES_ROOT = tmp_path / "slides"
    folder = settings.SLIDES_ROOT / str(event.pk) / ("ab" * 8)
    folder.mkdir(parents=True)
    files = {"1.view.webp": b"RIFF....WEBPVP8 ", "1.thumb.webp": b"RIFF....WEBPVP8 t", "12.full.png": b"\x89PNG..."}
    for name, content in files.items():
        (folder / name).write_bytes(content)
    (folder / "deck.pdf").write_bytes(b"%PDF-1.4")
    return f"/hls/{event.pk}/slides/{'ab' * 8}/", files


def test_nginx_serves_slide_images_to_a_pass_holder_as_django_does(slides, nginx, event, producer):
    base, files = slides
    value = pass_through_nginx(nginx, producer, event.pk)
    get_pass(producer, event.pk)
    for name, content in files.items():
        status, headers, body = request(nginx, "GET", base + name, with_pass(value))
        django = producer.get(base + name)
        assert (status, body) == (200, content), name
        for header in ("Content-Type", "Cache-Control"):
            assert headers[header.lower()] == django[header], (name, header)
        assert headers.get("content-disposition", "") == django.get("Content-Disposition", ""), name
        assert request(nginx, "GET", base + name)[0] == 403  # no pass
    # The deck's PDF is Django's (offered only after the show): not offered here, not found.
    assert request(nginx, "GET", base + "deck.pdf", with_pass(value))[0] == 404
    assert request(nginx, "GET", base + "2.view.webp", with_pass(value))[0] == 404


def test_nginx_answers_the_public_json_from_its_cache_without_asking_django_again(nginx, event):
    for name in ("status.json", "audience.json"):
        path = f"/e/{event.slug}/{name}"
        asked = time.monotonic()
        status, headers, first = request(nginx, "GET", path)
        assert (status, headers["x-cache-status"], headers["cache-control"]) == (200, "MISS", "public, max-age=2")
        # Within its max-age the same answer comes from the cache, whatever the query or cookie.
        for extra in ({}, {"Cookie": "sessionid=someone"}):
            status, headers, again = request(nginx, "GET", f"{path}?bust={len(extra)}", extra)
            if time.monotonic() - asked > 1:
                continue  # a machine this slow may have let the copy age out: nothing to conclude
            assert (status, headers["x-cache-status"], again) == (200, "HIT", first), (name, extra)


@pytest.fixture
def nginx_on_daphne(tmp_path, hls_root):
    """nginx in front of daphne serving the project's ASGI application (as `make run` does), whose
    low-latency handler answers blocking reloads; the ports of both and daphne's access log."""
    env = os.environ | {
        "DATABASE_URL": database_url(), "DJANGO_SETTINGS_MODULE": "config.settings", "PLAIN_HTTP": "true",
        "HLS_ROOT": str(hls_root),
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    log = tmp_path / "daphne.log"
    with (
        harness.running_server(env, log) as server,
        running_nginx(tmp_path / "nginx", f"127.0.0.1:{server.port}") as port,
    ):
        yield port, server.port, log


def ask(port: int, path: str, cookie: str) -> socket.socket:
    """Send a GET and return the socket, its answer still to come."""
    connection = socket.create_connection(("127.0.0.1", port), timeout=20)
    connection.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {PASS_COOKIE}={cookie}\r\n"
                       "Connection: close\r\n\r\n".encode())
    return connection


def answer(connection: socket.socket) -> tuple[int, dict, bytes]:
    with connection, connection.makefile("rb") as stream:
        response = http.client.HTTPResponse(connection)
        response.fp = stream
        response.begin()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()


def connections_to(port: int) -> int:
    """Established TCP connections to a local port (nginx's, proxying to the origin)."""
    with open("/proc/net/tcp") as table:
        rows = [line.split() for line in table.readlines()[1:]]
    return sum(1 for row in rows if row[1].endswith(f":{port:04X}") and row[3] == "01")


def test_nginx_sends_a_blocking_reload_to_the_origin_a_few_times_a_part_not_once_a_viewer(
    nginx_on_daphne, hls_root, settings
):
    port, origin, log = nginx_on_daphne
    writer = PlaylistWriter(hls_root / "7", part_target=PART)
    writer.begin_run()
    publish(writer, range(2))
    publish_parts(writer, 2, range(1))  # parts 2.0: the playlist hints at 2.1
    cookie = forged(7, int(passes.clock()) + 60, settings.HLS_PASS_SECRET)
    reload = "/hls/7/live.m3u8?_HLS_msn=2&_HLS_part=1"
    assert answer(ask(port, reload, "garbage"))[0] == 403  # nginx checks the pass before anything
    asked = time.monotonic()
    viewers = [ask(port, reload, cookie) for _ in range(VIEWERS_WAITING)]
    hinted = [ask(port, "/hls/7/part_000002_1.ts", cookie) for _ in range(3)]
    # The origin holds the first of each (nginx keeps its connection open); nobody has an answer.
    wait_for(lambda: connections_to(origin) >= 2, 10, "nginx waiting on the origin")
    assert select.select(viewers + hinted, [], [], 0)[0] == []
    publish_parts(writer, 2, range(1, 2))
    waited = time.monotonic() - asked
    answers = [answer(connection) for connection in viewers]
    assert {status for status, _, _ in answers} == {200}
    assert all(b'URI="part_000002_1.ts"' in body for _, _, body in answers)
    assert {answer(connection)[::2] for connection in hinted} == {(200, b"2.1")}
    # The origin was asked once, and once more each time the lock's age ran out while it held the
    # request (one for every viewer only if they waited that long); every other viewer had the
    # cache's copy.
    access = log.read_text()
    ages = 2 + int(waited / LOCK_AGE_S)
    origin_asked = access.count(f'"GET {reload}"')
    assert 1 <= origin_asked <= min(ages, VIEWERS_WAITING)
    assert sorted(headers["x-cache-status"] for _, headers, _ in answers).count("HIT") == VIEWERS_WAITING - origin_asked
    assert 1 <= access.count('"GET /hls/7/part_000002_1.ts"') <= min(ages, 3)
    # A reload refused at the origin (too far ahead, malformed) is refused through nginx too.
    for refused in ("_HLS_msn=9", "_HLS_msn=", "_HLS_part=1", "x=1&_HLS_msn=two"):
        assert answer(ask(port, f"/hls/7/live.m3u8?{refused}", cookie))[0] == 400, refused


def test_a_renewal_no_daphne_answers_is_answered_by_the_page_servers(tmp_path, hls_root, live_server, event, producer):
    """One daphne dead (refuses), the other starved (takes the connection, never answers): the
    renewal, which changes nothing, goes on to the page servers' Django, within nginx's 2 s for a
    daphne."""
    dead = f"127.0.0.1:{free_port()}"
    with socket.socket() as starved:
        starved.bind(("127.0.0.1", 0))
        starved.listen(16)  # the kernel completes the handshakes; nobody reads
        daphnes = (dead, f"127.0.0.1:{starved.getsockname()[1]}")
        with running_nginx(tmp_path / "nginx", live_server.url.removeprefix("http://"), daphnes) as port:
            began = time.monotonic()
            value = pass_through_nginx(port, producer, event.pk)
            took = time.monotonic() - began
    assert passes.admits(value, event.pk)
    assert 2 <= took < 9


def test_keyed_paths_stay_out_of_nginx_logs_even_when_their_upstream_fails(tmp_path):
    """Every web process dead: nginx answers 502 and logs the failure, but a keyed path's failure
    leaves its key out of both logs (its request line is what nginx's error log prints)."""
    dead = f"127.0.0.1:{free_port()}"
    key = "K3y-" + "x" * 39
    keyed = (f"/join/{key}/", f"/greenroom/7/{key}/", f"/ws/events/7/greenroom/7/{key}/",
             f"/hls/7/private/{key}/live.m3u8")
    folder = tmp_path / "nginx"
    with running_nginx(folder, dead, (dead,)) as port:
        for path in (*keyed, "/e/open-day/"):
            assert request(port, "GET", path)[0] == 502, path
    error_log = (folder / "error.log").read_text()
    assert '"GET /e/open-day/ HTTP/1.1"' in error_log  # the log works: an unkeyed failure is in it
    assert key not in error_log
    assert key not in (folder / "access.log").read_text()
