"""Drill: the broker is down while people register, and a worker dies while sending.

A real daphne and a real Celery worker use a throwaway Redis as their broker (the cache and the
channel layer stay on the suite's Redis). With the broker stopped, a registration still answers
and its email waits in the outbox; once the broker is back, the server's relay hands it over. The
mail server stalls on that email until the test SIGKILLs the worker's pool process mid-send: the
message, acknowledged late, is delivered again and the email goes out, once.
"""

import os
import signal
import subprocess
import tempfile
from pathlib import Path

import pytest
from django.conf import settings

from events import harness
from events.harness import database_url, free_port, wait_for
from events.models import OutboxMail, Registration
from tests.conftest import scaled_out
from tests.factories import make_event
from tests.live import Browser
from tests.smtp import mail_sink

pytestmark = [
    pytest.mark.live,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not scaled_out(), reason="the broker is Redis, scaled out"),
]


def start_redis(port: int, log) -> subprocess.Popen:
    command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    broker = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    wait_for(lambda: subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True).stdout
             == b"PONG\n", 10, "the throwaway broker")
    return broker


def pool_processes(node: str) -> list[int]:
    """The pool processes of the Celery worker named `node`: the processes of its command line
    whose parent is one of them too (forked children keep the parent's command line)."""
    parents = {}
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            command = (proc / "cmdline").read_bytes()
            state, parent = (proc / "stat").read_text().rsplit(")", 1)[1].split()[:2]
        except OSError:
            continue  # ended while we looked
        if node.encode() in command and state != "Z":
            parents[int(proc.name)] = int(parent)
    return [pid for pid, parent in parents.items() if parent in parents]


def test_a_registration_while_the_broker_is_down_is_kept_and_mailed_once_through_a_worker_crash():
    event = make_event("drill", title="Drill")
    folder = Path(tempfile.mkdtemp(prefix="outbox-drill-"))
    broker_port = free_port()
    broker_url = f"redis://127.0.0.1:{broker_port}/0"
    with open(folder / "redis.log", "wb") as redis_log, mail_sink(hold_first=True) as (sink, smtp_port):
        broker = start_redis(broker_port, redis_log)
        env = os.environ | {
            "DATABASE_URL": database_url(), "DJANGO_SETTINGS_MODULE": "config.settings", "PLAIN_HTTP": "true",
            "REDIS_URL": settings.REDIS_URL, "CELERY_BROKER_URL": broker_url,
            "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}", "EMAIL_TIMEOUT": "60",
        }
        env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        worker = harness.celery("worker", "-Q", "celery", "--concurrency", "1", "--loglevel", "INFO",
                                "--without-gossip", "--without-mingle", "--without-heartbeat",
                                "-n", f"outbox-drill-{broker_port}@%h")
        try:
            with harness.running_server(env, folder / "server.log", also=[worker]) as server:
                log = (folder / "server.log").read_text
                wait_for(lambda: f"outbox-drill-{broker_port}@" in log() and " ready." in log(), 60, "the worker")
                broker.terminate()
                broker.wait(timeout=10)

                status, url, _ = Browser(server.url).post_form(event.get_absolute_url(), {
                    "name": "Ada", "email": "ada@example.com"})
                assert (status, url) == (200, f"{server.url}/e/drill/registered/")
                registration = Registration.objects.get(event=event)
                owed = OutboxMail.objects.get(registration=registration)
                assert owed.sent_at is None and sink.delivered == []
                wait_for(lambda: "the outbox could not be relayed" in log(), 30, "the server's relay to fail")
                assert OutboxMail.objects.get(pk=owed.pk).sent_at is None  # kept, due again

                broker = start_redis(broker_port, redis_log)
                wait_for(sink.holding.is_set, 60, "the email to reach the mail server once the broker is back")
                (pool,) = pool_processes(f"outbox-drill-{broker_port}@")
                os.kill(pool, signal.SIGKILL)  # the worker dies mid-send
                wait_for(sink.abandoned.is_set, 10, "the killed worker's SMTP session to end")
                wait_for(lambda: sink.delivered, 60, "the email delivered again after the crash")
                owed.refresh_from_db()
                assert owed.sent_at is not None and owed.failed_at is None
                assert len(sink.delivered) == 1 and b"ada@example.com" in sink.delivered[0]
        finally:
            broker.terminate()
            broker.wait(timeout=10)
