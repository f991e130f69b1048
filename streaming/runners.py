"""Starting and watching one mixer per live event, behind one interface for both modes.

`LocalRunner` (embedded default) keeps each mixer as a child process of the server and forwards
its reports from a pipe to the consoles. `CeleryRunner` (scaled out) sends the mixer to a worker
on the mixer queue. Either way the launcher claims the lease first, so a duplicate start is
fenced off by its generation.
"""

import asyncio
import json
import logging
import subprocess
import sys
import threading

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import close_old_connections, connection

from stage.groups import meters_group
from stage.models import StageState
from streaming import lease

log = logging.getLogger(__name__)

MIXING_PHASES = ("live",)
WATCHDOG_SECONDS = 2.0


def events_needing_a_mixer() -> list[int]:
    """Events whose stage is live but whose mixer lease has lapsed (never started, or died)."""
    live = StageState.objects.filter(document__phase__in=MIXING_PHASES).values_list("event_id", flat=True)
    return [event_id for event_id in live if lease.is_lapsed(event_id)]


class LocalRunner:
    def __init__(self) -> None:
        self.children: dict[int, subprocess.Popen] = {}
        self.lock = threading.Lock()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.watchdog: threading.Thread | None = None
        self.stopping = threading.Event()

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """Run inside the server: publish reports on its loop and watch for dead mixers."""
        self.loop = loop
        if self.watchdog is None:
            self.watchdog = threading.Thread(target=self._watch, name="mixer-watchdog", daemon=True)
            self.watchdog.start()

    def start(self, event_id: int) -> None:
        with self.lock:
            child = self.children.get(event_id)
            if child is not None and child.poll() is None:
                return
            generation = lease.claim(event_id, owner=f"local-runner:{id(self)}")
            command = [
                sys.executable,
                str(settings.BASE_DIR / "manage.py"),
                "mixer",
                str(event_id),
                "--generation",
                str(generation),
                "--report-stdout",
            ]
            child = subprocess.Popen(command, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
            self.children[event_id] = child
        threading.Thread(target=self._forward_reports, args=(event_id, child), daemon=True).start()
        log.info("started mixer for event %s (generation %s, pid %s)", event_id, generation, child.pid)

    def stop_all(self) -> None:
        self.stopping.set()
        with self.lock:
            children = list(self.children.values())
        for child in children:
            if child.poll() is None:
                child.terminate()
        for child in children:
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()

    def _forward_reports(self, event_id: int, child: subprocess.Popen) -> None:
        for line in child.stdout:
            try:
                report = json.loads(line)
            except ValueError:
                continue
            self._publish(event_id, report)
        child.wait()

    def _publish(self, event_id: int, report: dict) -> None:
        layer = get_channel_layer()
        message = {"type": "mixer.report", "report": report}
        if self.loop is not None:
            # The in-memory layer's queues belong to the server's loop.
            asyncio.run_coroutine_threadsafe(layer.group_send(meters_group(event_id), message), self.loop)
        else:
            async_to_sync(layer.group_send)(meters_group(event_id), message)

    def _watch(self) -> None:
        while not self.stopping.wait(WATCHDOG_SECONDS):
            try:
                close_old_connections()
                for event_id in events_needing_a_mixer():
                    self.start(event_id)
            except Exception:
                log.exception("mixer watchdog failed; trying again")
            finally:
                connection.close()


class CeleryRunner:
    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """Nothing to do: Celery beat runs the watchdog."""

    def start(self, event_id: int) -> None:
        from streaming.tasks import run_mixer

        generation = lease.claim(event_id, owner="celery")
        run_mixer.delay(event_id, generation)

    def stop_all(self) -> None:
        """Workers stop with their own SIGTERM."""


_runner: LocalRunner | CeleryRunner | None = None


def get_runner() -> LocalRunner | CeleryRunner:
    global _runner
    if _runner is None:
        _runner = CeleryRunner() if settings.MIXER_RUNNER == "celery" else LocalRunner()
    return _runner


def on_stage_changed(sender, *, event_id: int, state: dict, **kwargs) -> None:
    """Start a mixer as soon as a show goes live; the mixer follows the rest by itself."""
    if settings.MIXER_AUTOSTART and state["phase"] in MIXING_PHASES:
        get_runner().start(event_id)
