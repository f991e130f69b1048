"""`manage.py scaleout`'s parts: which processes it runs and with what, how it restarts one that
exits and stops them all, the refusal without PostgreSQL and Redis, nginx's files; the page
server's client address behind the proxy; the 503 a database outage answers. The whole platform
running is tests/supervision/test_drills.py."""

import io
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import redis
from django.core.management import CommandError
from django.db import InterfaceError, OperationalError
from django.test import RequestFactory

from config.pages import from_proxy
from events.harness import free_port, wait_for
from events.views.errors import server_error
from streaming.management.commands.scaleout import announce, check_services, write_nginx
from streaming.scaleout.plan import Service, Shape, environment, services
from streaming.scaleout.supervisor import Backoff, Supervisor

SHAPE = Shape(port=8000, pages_ports=(8100, 8101), socket_ports=(8102,), mixers=2,
              nginx_dir=Path("/srv/run/nginx"), beat_schedule=Path("/srv/run/beat"))


def test_the_platform_is_workers_and_beat_then_web_processes_then_nginx():
    names = [service.name for service in services(SHAPE)]
    assert names == ["worker", "mixer-1", "mixer-2", "monitor", "beat", "pages-1", "pages-2", "sockets-1", "nginx"]
    by_name = {service.name: service for service in services(SHAPE)}
    assert by_name["pages-2"].command[1:] == ("-m", "config.pages", "-b", "127.0.0.1", "-p", "8101")
    assert by_name["sockets-1"].command[-3:] == ("-p", "8102", "config.asgi:application")
    mixer = by_name["mixer-1"].command
    assert mixer[mixer.index("-Q") + 1] == "mixer" and "--prefetch-multiplier" in mixer
    monitor = by_name["monitor"].command
    assert monitor[monitor.index("-Q") + 1] == "monitor"
    assert by_name["nginx"].command[1:5] == ("-p", "/srv/run/nginx", "-c", "/srv/run/nginx/nginx.conf")


def test_the_processes_get_the_operators_environment_and_what_the_shape_implies():
    env = environment({"DATABASE_URL": "postgres://db/x", "MIXER_RUNNER": "local"}, SHAPE)
    assert env["DATABASE_URL"] == "postgres://db/x"
    assert (env["MIXER_RUNNER"], env["BEHIND_PROXY"], env["SITE_URL"]) == ("celery", "true", "http://127.0.0.1:8000")
    assert environment({"SITE_URL": "https://webcast.example"}, SHAPE)["SITE_URL"] == "https://webcast.example"


def test_the_backoff_doubles_while_a_process_keeps_exiting_and_starts_over_once_it_ran():
    backoff = Backoff(first=1, most=8, settled=60)
    assert [backoff.after_run(0.5) for _ in range(6)] == [1, 2, 4, 8, 8, 8]
    assert backoff.after_run(61) == 1
    assert backoff.after_run(3) == 2


def test_the_supervisor_starts_again_what_exits_and_stops_everything_last_first():
    out = io.StringIO()
    quick = Service("quick", (sys.executable, "-c", "print('hello')"))
    lasting = Service("lasting", (sys.executable, "-c", "import time; print('up', flush=True); time.sleep(60)"))
    supervisor = Supervisor([lasting, quick], {}, "/", out)
    supervisor.start()
    stop = threading.Event()
    watching = threading.Thread(target=supervisor.watch, args=(stop, 0.05))
    watching.start()
    try:
        wait_for(lambda: out.getvalue().count("started quick") == 2, 10, "quick to be started again")
    finally:
        stop.set()
        watching.join()
        supervisor.stop()
    text = out.getvalue()
    assert "quick    | hello" in text and "lasting  | up" in text
    assert "quick exited (0); starting it again in 1 s" in text
    assert text.index("stopping quick") < text.index("stopping lasting")
    assert supervisor.running["lasting"].process.poll() is not None


def test_without_postgresql_and_redis_it_refuses_to_start(settings):
    settings.REDIS_URL = ""
    with pytest.raises(CommandError, match="set DATABASE_URL=postgres://… and REDIS_URL=redis://…"):
        check_services()


def test_nginx_gets_the_site_and_a_whole_configuration_readable_by_its_owner_only(settings, tmp_path):
    settings.HLS_ROOT, settings.SLIDES_ROOT = tmp_path / "hls", tmp_path / "slides"
    settings.STATIC_ROOT = tmp_path / "s"
    shape = Shape(port=8000, pages_ports=(8100,), socket_ports=(8101,), mixers=1, nginx_dir=tmp_path / "nginx",
                  beat_schedule=tmp_path / "beat")
    write_nginx(shape)
    site, main = (tmp_path / "nginx" / "webcast.conf"), (tmp_path / "nginx" / "nginx.conf")
    assert site.stat().st_mode & 0o777 == main.stat().st_mode & 0o777 == 0o600
    text = site.read_text()
    assert "listen 127.0.0.1:8000;" in text and f"alias {tmp_path}/s/;" in text
    assert "upstream webcast_sockets {\n    server 127.0.0.1:8101 max_fails=0;\n" in text
    assert "daemon off;" in main.read_text() and f"include {site};" in main.read_text()


def test_the_page_server_takes_the_client_address_from_the_proxy():
    seen = {}

    def application(environ, start_response):
        seen["address"] = environ["REMOTE_ADDR"]
        return []

    from_proxy(application)({"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "203.0.113.7"}, None)
    assert seen["address"] == "203.0.113.7"
    from_proxy(application)({"REMOTE_ADDR": "127.0.0.1"}, None)
    assert seen["address"] == "127.0.0.1"


@pytest.mark.parametrize("failure", [OperationalError("couldn't get a connection after 3.00 sec"),
                                     InterfaceError("connection already closed"),
                                     redis.ConnectionError("Error 111 connecting to 127.0.0.1:6379")])
def test_a_request_the_database_could_not_answer_gets_a_503_to_try_again(failure, db):
    request = RequestFactory().get("/e/demo/")
    try:
        raise failure
    except type(failure):
        response = server_error(request)
    assert (response.status_code, response["Retry-After"]) == (503, "5")
    assert b"Back in a moment" in response.content and b"nothing you sent was saved" in response.content


def test_any_other_failure_is_still_a_server_error(db):
    try:
        raise ValueError("a bug")
    except ValueError:
        response = server_error(RequestFactory().get("/"))
    assert response.status_code == 500


class Refusing(BaseHTTPRequestHandler):
    """A web process asked by its own address: it refuses the host, but it answers."""

    def do_GET(self):
        self.send_error(400)

    def log_message(self, *args):
        pass


class Serving(Refusing):
    """nginx serving a page; counts the times it was asked."""

    asked = 0

    def do_GET(self):
        type(self).asked += 1
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()


def serving(handler, port: int = 0) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_ready_only_once_nginx_serves_a_page_and_every_web_process_answers(tmp_path):
    front, page = serving(Serving), serving(Refusing)
    daphne_port = free_port()
    shape = Shape(port=front.server_address[1], pages_ports=(page.server_address[1],), socket_ports=(daphne_port,),
                  mixers=1, nginx_dir=tmp_path, beat_schedule=tmp_path / "beat")
    said = io.StringIO()
    supervisor = Supervisor([], {}, str(tmp_path), said)
    stop = threading.Event()
    announcing = threading.Thread(target=announce, args=(supervisor, shape, stop), daemon=True)
    announcing.start()
    try:
        # A page through nginx and the page server answer; the daphne does not listen yet. Asked
        # twice, nginx has seen one whole look at the web processes go by without a "ready".
        asked = Serving.asked
        wait_for(lambda: Serving.asked >= asked + 2, 10, "two looks at the platform", every=0.05)
        assert "ready" not in said.getvalue()
        daphne = serving(Refusing, daphne_port)
        announcing.join(10)
        assert not announcing.is_alive() and f"ready: {shape.url}/" in said.getvalue()
        daphne.shutdown()
    finally:
        stop.set()
        for server in (front, page):
            server.shutdown()
