"""Registrations per second through the real view, against the bare INSERT of the same rows.

Ours: N distinct registrants POST the event page through Django's WSGI application (every
middleware, the CSRF check, the rate limiter, form validation, the registration and its email in
the outbox in one statement, the redirect to the thank-you page). The process's relay thread
hands the emails to the broker meanwhile, as in a server; the run ends when every one was handed.
Bare: the same rows inserted with the plain driver (psycopg, or Python's sqlite3 on the same file
with the same pragmas), one autocommitted INSERT each, values prepared beforehand: the lower bound
of a registration. Both in one run, against the configured database (PostgreSQL scaled out, the
SQLite file of the embedded default), one request or row at a time, in alternating rounds of 100.
Mail tasks go to a throwaway queue of the broker that is purged at the end; without a broker (the
embedded default) they run in the request, as there, sending to memory.
`manage.py bench_registration` runs it.
"""

import argparse
import io
import json
import secrets
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from urllib.parse import urlencode

import psycopg
from celery import current_app
from django.conf import settings
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.core.wsgi import get_wsgi_application
from django.db import connection
from django.test.utils import override_settings
from django.utils import timezone
from prometheus_client import REGISTRY

from events import relay
from events.access import new_access_key
from events.harness import wait_for
from events.models import Event, FieldMode, Registration

QUEUE = "bench-registration"
WARM_UP = 20
ROUND = 100


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `manage.py bench_registration`."""
    parser.add_argument("--n", type=int, default=2000, help="registrants to time (default 2000)")
    parser.add_argument("--capacity", type=int, default=None,
                        help="seat limit of the bench event (default: none; with one, each registration "
                             "counts seats under the event row lock)")
    parser.add_argument("--json", action="store_true", dest="as_json", help="print one JSON object")


def run_with(options: dict, write: Callable[[str], object]) -> dict:
    """Time both sides for the parsed options; print the figures (or one JSON object)."""
    # With DEBUG off the form page names its static files by the manifest collectstatic writes:
    # without it a fresh checkout's first GET answered 500.
    call_command("collectstatic", interactive=False, verbosity=0)
    return run(n=options["n"], capacity=options["capacity"], as_json=options["as_json"], write=write)


def run(*, n: int, capacity: int | None, as_json: bool, write: Callable[[str], object]) -> dict:
    """Time `n` registrations through the view and `n` bare INSERTs; returns the rates and their ratio."""
    if connection.vendor not in BARE_CONNECT:
        raise CommandError(f"bench_registration measures PostgreSQL or SQLite, not {connection.vendor}")
    if n < 1:
        raise CommandError("--n must be at least 1")
    with _mail_path():
        tag = secrets.token_hex(4)
        start = timezone.now() + timedelta(days=30)
        event = Event.objects.create(slug=f"bench-{tag}", title="Bench", starts_at=start, capacity=capacity,
                                     organisation_field=FieldMode.OPTIONAL)
        bare_event = Event.objects.create(slug=f"bench-bare-{tag}", title="Bench", starts_at=start)
        try:
            with _bare_inserter(bare_event, n) as insert:
                ours, bare = _interleaved(_registrar(event), insert, n)
            if event.registrations.count() != n + WARM_UP:
                raise CommandError("not every registration was stored")
        finally:
            Event.objects.filter(pk__in=[event.pk, bare_event.pk]).delete()

    result = {"ours_per_s": round(ours, 1), "bare_insert_per_s": round(bare, 1), "ratio": round(ours / bare, 3)}
    if as_json:
        write(json.dumps(result))
        return result
    database, driver = {"postgresql": ("PostgreSQL", "psycopg"), "sqlite": ("SQLite", "sqlite3")}[connection.vendor]
    write(f"bench_registration: {n} registrants, {database}, capacity {capacity or 'unlimited'}")
    write(f"{'  ours (HTTP view: CSRF, rate limit, form, INSERT + outbox, relayed):':<72}{ours:9.1f} /s")
    write(f"{f'  bare {driver} INSERT, one autocommitted row each:':<72}{bare:9.1f} /s")
    write(f"  ratio: {result['ratio']:.3f}")
    return result


@contextmanager
def _mail_path() -> Iterator[None]:
    """The confirmation emails go as the configured mode sends them. With a broker, the relay
    publishes their tasks, which are not run here: a queue of their own keeps them away from real
    workers and is purged at the end. Without one (the embedded default), the tasks run eagerly,
    in the request, as there; their emails are kept in memory instead of printed."""
    if settings.CELERY_BROKER_URL.startswith("memory://"):
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
            yield
        mail.outbox.clear()
        return
    eager, routes = settings.CELERY_TASK_ALWAYS_EAGER, current_app.conf.task_routes
    settings.CELERY_TASK_ALWAYS_EAGER = False
    _set_routes({"events.tasks.send_outbox_mails": {"queue": QUEUE}})
    _purge_queue()  # what an interrupted run left behind is not this run's
    try:
        yield
    finally:
        _purge_queue()
        settings.CELERY_TASK_ALWAYS_EAGER = eager
        _set_routes(routes)


def _interleaved(register: Callable[[int], None], insert: Callable[[int], None], n: int) -> tuple[float, float]:
    """Rates of both sides, timed in alternating rounds of ROUND, so both meet the same load on a
    shared machine (timed one after the other, the bare rate swung sixfold between runs). Each
    round of ours ends when the relay has handed its emails to the broker, so the relay's work
    is ours and never runs during a bare round."""
    relayed = _relayed_so_far()
    for i in range(n, n + WARM_UP):
        register(i)
        insert(i)
    _relayed(relayed + WARM_UP)
    ours = bare = 0.0
    for start in range(0, n, ROUND):
        stop = min(n, start + ROUND)
        began = time.perf_counter()
        for i in range(start, stop):
            register(i)
        _relayed(relayed + WARM_UP + stop)
        ours += time.perf_counter() - began
        began = time.perf_counter()
        for i in range(start, stop):
            insert(i)
        bare += time.perf_counter() - began
    return n / ours, n / bare


def _relayed_so_far() -> float:
    """Emails this process's relay handed to the broker (its metric)."""
    return REGISTRY.get_sample_value("webcast_outbox_relayed_total") or 0.0


def _relayed(count: float) -> None:
    """Until the process has handed `count` emails to the broker: what is due is relayed here at
    once (the thread would wait out its spacing, idle time that is no cost of a registration)."""
    relay.relay()
    wait_for(lambda: _relayed_so_far() >= count, 60, "the relay to hand the emails to the broker", every=0.001)


def _registrar(event: Event) -> Callable[[int], None]:
    """Registers person i through Django's WSGI application, called as a WSGI server calls it:
    every middleware, the CSRF check, URL routing, the view. (The test client would add its own
    instrumentation.)"""
    application = get_wsgi_application()
    host = next((h for h in settings.ALLOWED_HOSTS if h not in ("*", "")), "localhost").lstrip(".")
    scheme = "https" if settings.SECURE_SSL_REDIRECT else "http"
    path = event.get_absolute_url()

    def call(method: str, body: bytes = b"", cookie: str = "", address: str = "127.0.0.1"):
        environ = {
            "REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": "", "SERVER_NAME": host,
            "SERVER_PORT": "443" if scheme == "https" else "80", "SERVER_PROTOCOL": "HTTP/1.1",
            "HTTP_HOST": host, "HTTP_ORIGIN": f"{scheme}://{host}", "HTTP_COOKIE": cookie,
            "REMOTE_ADDR": address, "CONTENT_TYPE": "application/x-www-form-urlencoded",
            "CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body), "wsgi.url_scheme": scheme,
            "wsgi.errors": sys.stderr,
        }
        started = []
        body = b"".join(application(environ, lambda status, headers, *_: started.append((status, headers))))
        return started[0]

    _, headers = call("GET")
    cookie = next(value.strip().split(";")[0] for name, value in headers
                  if name == "Set-Cookie" and value.strip().startswith("csrftoken="))
    token = cookie.split("=", 1)[1]

    def register(i: int) -> None:
        data = urlencode({"csrfmiddlewaretoken": token, "name": f"Bench Person {i}",
                          "email": f"bench{i}@example.com", "organisation": "Example Ltd"}).encode()
        # Distinct people from distinct addresses, as the rate limiter expects.
        status, _ = call("POST", data, cookie, f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}")
        if not status.startswith("303"):  # registered: redirected to the thank-you page
            raise CommandError(f"registration {i} answered {status}")

    return register


@contextmanager
def _bare_inserter(event: Event, n: int) -> Iterator[Callable[[int], None]]:
    """Inserts row i with the plain driver, one autocommitted INSERT each, values prepared beforehand."""
    now = connection.ops.adapt_datetimefield_value(timezone.now())  # as Django stores it
    rows = [
        (event.pk, f"Bench Person {i}", f"bench{i}@example.com", "Example Ltd", "", "{}",
         Registration.Status.CONFIRMED, new_access_key(), now, now, 0)
        for i in range(n + WARM_UP)
    ]
    columns = ("event_id, name, email, organisation, job_title, answers, status, access_key, created_at, "
               "status_changed_at, reminder_level")
    bare, mark = BARE_CONNECT[connection.vendor](connection.settings_dict)
    sql = f"INSERT INTO events_registration ({columns}) VALUES ({', '.join([mark] * 11)}) RETURNING id"
    try:
        cursor = bare.cursor()

        def insert(i: int) -> None:
            cursor.execute(sql, rows[i])
            cursor.fetchone()

        yield insert
    finally:
        bare.close()


def _psycopg(db: dict) -> tuple[psycopg.Connection, str]:
    return psycopg.connect(dbname=db["NAME"], user=db["USER"], password=db["PASSWORD"] or None,
                           host=db["HOST"] or None, port=db["PORT"] or None, autocommit=True), "%s"


def _sqlite(db: dict) -> tuple[sqlite3.Connection, str]:
    """The same file as Django's connection, with its pragmas (WAL, synchronous NORMAL)."""
    bare = sqlite3.connect(db["NAME"], timeout=db["OPTIONS"].get("timeout", 5), isolation_level=None)
    bare.executescript(db["OPTIONS"].get("init_command", ""))
    return bare, "?"


# The plain driver of each database the bench measures, and its parameter mark.
BARE_CONNECT = {"postgresql": _psycopg, "sqlite": _sqlite}


def _set_routes(routes) -> None:
    """Route tasks so from now on. Celery builds its router once, from the routes it read first:
    changing the setting alone is ignored (the bench's tasks went to the default queue) or, when
    the router is first built during the bench, kept for the rest of the process."""
    current_app.conf.task_routes = routes
    current_app.amqp.flush_routes()
    current_app.amqp.router = current_app.amqp.Router()


def _purge_queue() -> int | None:
    """Drop the bench's mail tasks from the broker; returns how many there were."""
    try:
        with current_app.connection_for_write() as broker:
            return broker.default_channel.queue_purge(QUEUE)
    except Exception:  # a broker without the queue has nothing to purge
        return None
