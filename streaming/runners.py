"""Starting and watching one mixer and one off-air monitor per live event, behind one interface
for both modes.

`LocalRunner` (embedded default) keeps each mixer and monitor as a child process of the server
and forwards their reports from a pipe to the consoles. `CeleryRunner` (scaled out) sends the
mixer to a worker on the mixer queue and the monitor to one on the monitor queue; Celery beat runs
the watchdog. Either way the launcher claims the lease first, so a duplicate start is fenced off
by its generation, and the watchdog replaces a mixer or monitor whose lease lapsed (dead, hung or
paused) with generation + 1 (streaming/off_air_supervision.py for the monitors).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import queue
import subprocess
import sys
import threading
from typing import Protocol

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection

from stage.models import StageState
from stage.state import ENDED, MIXING_PHASES
from streaming import lease
from streaming.models import MixerLease, OffAirLease
from streaming.off_air_supervision import monitors_wanted, needs_monitor, watch_monitors
from streaming.reports import Forwarder
from streaming.stage_link import needs_mixer
from streaming.uplink import uses_redis

log = logging.getLogger(__name__)


class MixerRunner(Protocol):
    def attach(self, loop: asyncio.AbstractEventLoop | None) -> None:
        """Called once inside the server process with its event loop."""

    def start(self, event_id: int) -> None:
        """Claim the next generation of the event's lease and start a mixer for it."""

    def start_monitor(self, event_id: int) -> None:
        """Claim the next generation of the event's monitor lease and start an off-air monitor."""

    def stop_all(self) -> None:
        """Stop the mixers this runner started (the server is going down)."""

    def send_control(self, event_id: int, frame: bytes) -> bool:
        """Pass a control frame to the event's mixer over a pipe; False when there is none."""


def events_needing_a_mixer() -> list[int]:
    """Events whose stage needs a mixer but whose lease has lapsed (never started, or died)."""
    active = StageState.objects.filter(document__phase__in=MIXING_PHASES).values_list("event_id", flat=True)
    return [event_id for event_id in active if lease.is_lapsed(event_id)]


def shows_owed_a_finish() -> list[int]:
    """Ended shows whose mixer died before it wrote their ENDLIST and replay, and nobody is at it."""
    owed = MixerLease.objects.filter(
        lease.LAPSED, event__stage__document__phase=ENDED, finished_at__isnull=True, generation__gt=0
    )
    return list(owed.values_list("event_id", flat=True))


def show_is_finished(event_id: int) -> bool:
    """The event's show is over and its ending written: no mixer will run for it again."""
    return MixerLease.objects.filter(event_id=event_id, finished_at__isnull=False).exists()


def watch_once(runner: MixerRunner) -> list[int]:
    """One watchdog round: start a mixer for every event that needs one (a live show without a
    mixer, or an ended show owed its finish) and an off-air monitor for every live show without
    one; returns the ids of the events given a mixer. With MIXER_AUTOSTART off it starts nothing:
    mixers are then run by hand (`manage.py mixer`), and a second one would fence them off."""
    if not settings.MIXER_AUTOSTART:
        return []
    started = events_needing_a_mixer() + shows_owed_a_finish()
    for event_id in started:
        runner.start(event_id)
    watch_monitors(runner)
    return started


# Uplink frames waiting for a mixer child's stdin (a few seconds of a dozen browser lines).
MAX_QUEUED_UPLINK_FRAMES = 1000


class ChildInput:
    """Browser uplink frames for one mixer child, written by a thread of its own so the server's
    event loop never blocks on the pipe; a child that stops reading loses frames, not the server."""

    def __init__(self, child: subprocess.Popen) -> None:
        self.child = child
        self.queue: queue.Queue[bytes | None] = queue.Queue(MAX_QUEUED_UPLINK_FRAMES)
        self.dropped = 0
        self.writer = threading.Thread(target=self._write, name=f"mixer-uplink-pipe-{child.pid}", daemon=True)
        self.writer.start()

    def put(self, frame: bytes) -> None:
        try:
            self.queue.put_nowait(frame)
        except queue.Full:
            self.dropped += 1

    def close(self) -> None:
        """The child has exited: end the writer thread (a full queue means it is writing, and
        fails on the closed pipe instead)."""
        with contextlib.suppress(queue.Full):
            self.queue.put_nowait(None)

    def _write(self) -> None:
        try:
            while (frame := self.queue.get()) is not None:
                self.child.stdin.write(frame)
                self.child.stdin.flush()
        except (OSError, ValueError):
            pass  # the child is gone; its successor gets an input of its own
        finally:
            with contextlib.suppress(OSError, ValueError):
                self.child.stdin.close()


class LocalRunner:
    """Mixers as child processes of this process (`manage.py mixer EVENT --report-stdout`)."""

    def __init__(self) -> None:
        self.children: dict[int, subprocess.Popen] = {}
        self.monitors: dict[int, subprocess.Popen] = {}
        self.inputs: dict[int, ChildInput] = {}
        # The newest WebM header frame of each browser line, for a child started mid-session.
        self.headers: dict[int, dict[str, bytes]] = {}
        self.superseded: list[subprocess.Popen] = []
        self.lock = threading.Lock()
        self.forwarder = Forwarder()
        self.watchdog: threading.Thread | None = None
        self.stopping = threading.Event()

    def attach(self, loop: asyncio.AbstractEventLoop | None) -> None:
        """Run inside the server: publish reports on its loop and watch for lapsed leases."""
        self.forwarder.loop = loop
        if self.watchdog is None:
            self.watchdog = threading.Thread(target=self._watch, name="mixer-watchdog", daemon=True)
            self.watchdog.start()

    def start(self, event_id: int) -> None:
        with self.lock:
            # The claim decides: None means a mixer (ours or another's) holds a live lease.
            generation = lease.claim(event_id, owner="queued by the local runner")
            if generation is None:
                return
            child = self.children.get(event_id)
            if child is not None and child.poll() is None:
                # Alive but its lease lapsed: hung or paused. It is fenced off already; ask it to go.
                log.warning("mixer of event %s (pid %s) lost its lease; replacing it", event_id, child.pid)
                child.terminate()
                self.superseded.append(child)
            # Scaled out, browser uplinks reach the mixer through Redis; embedded, through its stdin.
            piped = not uses_redis()
            child = self._spawn(event_id, generation, piped)
            self.children[event_id] = child
            if piped:
                previous = self.inputs.pop(event_id, None)
                if previous is not None:
                    previous.close()
                self.inputs[event_id] = ChildInput(child)
                for frame in self.headers.get(event_id, {}).values():
                    self.inputs[event_id].put(frame)
        threading.Thread(target=self._forward_reports, args=(event_id, child), daemon=True).start()
        log.info("started mixer for event %s (generation %s, pid %s)", event_id, generation, child.pid)

    def start_monitor(self, event_id: int) -> None:
        with self.lock:
            # As for mixers, the claim decides: None means a monitor holds a live lease.
            generation = lease.claim(event_id, owner="queued by the local runner", model=OffAirLease)
            if generation is None:
                return
            child = self.monitors.get(event_id)
            if child is not None and child.poll() is None:
                log.warning("off-air monitor of event %s (pid %s) lost its lease; replacing it", event_id, child.pid)
                child.terminate()
                self.superseded.append(child)
            command = [
                sys.executable,
                str(settings.BASE_DIR / "manage.py"),
                "off_air_monitor",
                str(event_id),
                "--generation",
                str(generation),
                "--report-stdout",
            ]
            child = subprocess.Popen(command, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
            self.monitors[event_id] = child
        threading.Thread(target=self._forward_reports, args=(event_id, child), daemon=True).start()
        log.info("started off-air monitor for event %s (generation %s, pid %s)", event_id, generation, child.pid)

    def _spawn(self, event_id: int, generation: int, piped: bool) -> subprocess.Popen:
        command = [
            sys.executable,
            str(settings.BASE_DIR / "manage.py"),
            "mixer",
            str(event_id),
            "--generation",
            str(generation),
            "--report-stdout",
        ]
        # Binary pipes: uplink frames go in; reports come out as JSON lines (json.loads takes bytes).
        return subprocess.Popen(
            command + ["--uplink-stdin"] * piped,
            stdout=subprocess.PIPE,
            stdin=subprocess.PIPE if piped else subprocess.DEVNULL,
        )

    def send_uplink(self, event_id: int, line_id: str, frame: bytes, *, header: bool) -> None:
        """Pass one browser uplink frame to the event's mixer child (streaming/uplink.py)."""
        with self.lock:
            if header:
                self.headers.setdefault(event_id, {})[line_id] = frame
            feed = self.inputs.get(event_id)
        if feed is not None:
            feed.put(frame)

    def send_control(self, event_id: int, frame: bytes) -> bool:
        """Pass a control frame (streaming/uplink.py) to the event's mixer child, if it has one."""
        with self.lock:
            feed = self.inputs.get(event_id)
            child = self.children.get(event_id)
        if feed is None or child is None or child.poll() is not None:
            return False
        feed.put(frame)
        return True

    def stop_all(self) -> None:
        self.stopping.set()
        with self.lock:
            children = [*self.children.values(), *self.monitors.values(), *self.superseded]
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
            self.forwarder.forward(event_id, report)
        child.wait()
        child.stdout.close()
        self._release(event_id, child)

    def _release(self, event_id: int, child: subprocess.Popen) -> None:
        """A child has exited: end its input's writer and forget it. Its lines' headers are kept
        for a successor, unless the show is over (its lease finished)."""
        with self.lock:
            if child in self.superseded:
                self.superseded.remove(child)
            if self.monitors.get(event_id) is child:
                del self.monitors[event_id]
                return
            if self.children.get(event_id) is not child:
                return  # already replaced: the maps are the successor's
            del self.children[event_id]
            feed = self.inputs.pop(event_id, None)
        if feed is not None:
            feed.close()
        try:
            finished = show_is_finished(event_id)
        except DatabaseError:
            finished = False  # kept: a successor may yet need them
        finally:
            connection.close()  # this thread's own connection
        if finished:
            with self.lock:
                if event_id not in self.children:
                    self.headers.pop(event_id, None)

    def _watch(self) -> None:
        while not self.stopping.wait(settings.MIXER_WATCHDOG_SECONDS):
            try:
                close_old_connections()
                watch_once(self)
            except Exception:
                log.exception("mixer watchdog failed; trying again")
            finally:
                connection.close()


class CeleryRunner:
    """Mixers as tasks on the mixer queue (one per worker process: concurrency 1, prefetch 1)."""

    def send_control(self, event_id: int, frame: bytes) -> bool:
        """Control messages reach Celery's mixers through Redis, never a pipe (streaming/uplink.py)."""
        return False

    def attach(self, loop: asyncio.AbstractEventLoop | None) -> None:
        """Nothing to do: Celery beat runs the watchdog."""

    def start(self, event_id: int) -> None:
        from streaming.tasks import run_mixer

        generation = lease.claim(event_id, owner="queued on the mixer queue")
        if generation is None:
            return  # a mixer, or another server's claim, holds the lease
        run_mixer.delay(event_id, generation)
        log.info("queued mixer for event %s (generation %s)", event_id, generation)

    def start_monitor(self, event_id: int) -> None:
        from streaming.tasks import run_off_air_monitor

        generation = lease.claim(event_id, owner="queued on the monitor queue", model=OffAirLease)
        if generation is None:
            return  # a monitor, or another server's claim, holds the lease
        run_off_air_monitor.delay(event_id, generation)
        log.info("queued off-air monitor for event %s (generation %s)", event_id, generation)

    def stop_all(self) -> None:
        """Workers stop with their own SIGTERM."""


_runner: MixerRunner | None = None


def get_runner() -> MixerRunner:
    global _runner
    if _runner is None:
        _runner = CeleryRunner() if settings.MIXER_RUNNER == "celery" else LocalRunner()
    return _runner


def on_stage_changed(sender, *, event_id: int, state: dict, **kwargs) -> None:
    """Start a mixer as soon as a show needs one, and an off-air monitor as soon as it is live;
    they follow the rest by themselves."""
    if settings.MIXER_AUTOSTART and needs_mixer(state) and lease.is_lapsed(event_id):
        get_runner().start(event_id)
    if monitors_wanted() and needs_monitor(event_id, state):
        get_runner().start_monitor(event_id)
