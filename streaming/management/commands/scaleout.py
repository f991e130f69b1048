import os
import signal
import sys
import threading
import urllib.error
import urllib.request

import redis
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from events.harness import WaitTimeout, free_port, http_answers, wait_for
from stage.deck_views import ENVELOPE_BYTES
from streaming.nginx import BadValue, Site, render, standalone
from streaming.scaleout.plan import NGINX, Shape, environment, services
from streaming.scaleout.supervisor import Supervisor

TEMPLATE = "config/nginx/webcast.conf.template"


class Command(BaseCommand):
    help = (
        "Run the scaled-out platform in the foreground on this machine: nginx in front of page servers "
        "and daphnes, Celery workers for tasks and mixers, and beat, on the PostgreSQL and Redis that "
        "DATABASE_URL and REDIS_URL name. Migrates and collects static files first; restarts a process "
        "that exits; Ctrl-C stops them all."
    )

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000, help="nginx's port on 127.0.0.1 (default 8000)")
        parser.add_argument("--pages", type=int, default=2, help="page servers (WSGI; default 2)")
        parser.add_argument("--sockets", type=int, default=2, help="daphnes for the WebSockets (default 2)")
        parser.add_argument("--mixers", type=int, default=1, help="mixer workers: shows at once (default 1)")
        parser.add_argument(
            "--backend-port", type=int, default=None,
            help="the first web process's port, the others following (default: nginx's port + 100; 0: any free ports)",
        )
        parser.add_argument("--demo", action="store_true", help="create (or reset) the demo event and print its links")

    def handle(self, *args, **options):
        if min(options["pages"], options["sockets"], options["mixers"]) < 1:
            raise CommandError("--pages, --sockets and --mixers are 1 or more.")
        check_services()
        call_command("migrate", interactive=False, verbosity=0)
        # With DEBUG off every page names its static files by collectstatic's manifest.
        call_command("collectstatic", interactive=False, verbosity=0)
        shape = plan_shape(options)
        env = environment(dict(os.environ), shape)
        write_nginx(shape)
        if options["demo"]:
            # The demo's links point at nginx (the processes get the same SITE_URL).
            settings.SITE_URL = env["SITE_URL"]
            call_command("load_demo", stdout=self.stdout)

        supervisor = Supervisor(services(shape), env, str(settings.BASE_DIR), sys.stdout)
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        supervisor.start()
        try:
            ready = threading.Thread(target=announce, args=(supervisor, shape, stop), daemon=True)
            ready.start()
            supervisor.watch(stop)
        finally:
            supervisor.stop()
            supervisor.say("scaleout", "stopped")


def check_services() -> None:
    """PostgreSQL and Redis must answer before anything starts (they are the shared state), and
    nginx must be installed."""
    if not os.access(NGINX, os.X_OK):
        raise CommandError(f"nginx is not installed ({NGINX}): apt-get install nginx-core")
    if connection.vendor != "postgresql" or not settings.REDIS_URL:
        raise CommandError(
            "The scaled-out platform runs on PostgreSQL and Redis: set DATABASE_URL=postgres://… and "
            "REDIS_URL=redis://… (make scaled sets loopback defaults)."
        )
    try:
        connection.ensure_connection()
    except Exception as error:
        raise CommandError(f"PostgreSQL does not answer at DATABASE_URL: {error}") from None
    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_timeout=5).ping()
    except Exception as error:
        raise CommandError(f"Redis does not answer at REDIS_URL: {error}") from None
    connection.close()


def plan_shape(options: dict) -> Shape:
    count = options["pages"] + options["sockets"]
    base = options["backend_port"]
    if base is None:
        base = options["port"] + 100
    ports = [free_port() for _ in range(count)] if base == 0 else list(range(base, base + count))
    run_dir = settings.VAR_DIR / "scaleout"
    return Shape(
        port=options["port"],
        pages_ports=tuple(ports[: options["pages"]]),
        socket_ports=tuple(ports[options["pages"]:]),
        mixers=options["mixers"],
        nginx_dir=run_dir / "nginx",
        beat_schedule=run_dir / "celerybeat-schedule",
        mixer_queue=settings.MIXER_QUEUE,
    )


def write_nginx(shape: Shape) -> None:
    """nginx's site (the repository's template) and a whole nginx.conf around it, in nginx_dir."""
    folder = shape.nginx_dir
    folder.mkdir(parents=True, exist_ok=True)
    site = Site(
        hls_root=str(settings.HLS_ROOT.resolve()),
        pass_secret=settings.HLS_PASS_SECRET,
        listen=f"127.0.0.1:{shape.port}",
        upstreams=tuple(f"127.0.0.1:{port}" for port in shape.pages_ports),
        socket_upstreams=tuple(f"127.0.0.1:{port}" for port in shape.socket_ports),
        slides_root=str(settings.SLIDES_ROOT.resolve()),
        slides_upload_bytes=settings.SLIDES_MAX_UPLOAD_BYTES + ENVELOPE_BYTES,
        static_root=str(settings.STATIC_ROOT.resolve()),
        cache_dir=str(folder / "cache"),
    )
    try:
        text = render((settings.BASE_DIR / TEMPLATE).read_text(), site)
        # As root, nginx's workers would run as "nobody", who may not read the checkout's var/.
        main = standalone(str(folder), str(folder / "webcast.conf"), workers=2, as_root=os.geteuid() == 0)
    except BadValue as error:
        raise CommandError(str(error)) from None
    for name, content in (("webcast.conf", text), ("nginx.conf", main)):
        descriptor = os.open(folder / name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # the pass secret
        os.fchmod(descriptor, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(content)


def announce(supervisor: Supervisor, shape: Shape, stop: threading.Event) -> None:
    """Say where the platform answers once a page has come back through nginx and every web
    process answers on its own port: pages come from the page servers, so a page alone said
    nothing of the daphnes, and a console opened at "ready" could meet nginx's 502."""
    web = [f"http://127.0.0.1:{port}/" for port in (*shape.pages_ports, *shape.socket_ports)]

    def answers() -> bool:
        if stop.is_set():
            return True
        try:
            urllib.request.urlopen(shape.url + "/", timeout=2).close()
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return False
        # Any status will do: a web process asked by its own address may refuse the host.
        return all(http_answers(url) for url in web)

    try:
        wait_for(answers, 120, "the platform to answer through nginx", every=0.5)
    except WaitTimeout:
        supervisor.say("scaleout", f"nothing answers at {shape.url}/ after 120 s: see the processes' output above")
        return
    if not stop.is_set():
        supervisor.say("scaleout", f"ready: {shape.url}/ (Ctrl-C stops everything)")
