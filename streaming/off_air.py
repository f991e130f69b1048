"""One event's off-air monitor: what the audience receives, read from the published stream.

It plays the webcast as a viewer's player does (streaming/off_air_viewer.py: HTTP, the public path,
a media pass), gives what it gets to the monitor's core (streaming/core/off_air.py) with the
mixer's record of its lines and the stage's view of who is on air, and reports back: a reading a
segment to the consoles (`off_air`) and to the post-show history, and each alarm raised or cleared
as a stage fact (`set_off_air_alarm`, role `monitor`), through the same report path as the mixer's.

Both runners end up here, as for the mixer: the local runner's child (`manage.py off_air_monitor`)
and the Celery task on the monitor queue. One loop does everything, the lease's renewal included,
so a monitor that hangs stops renewing: the watchdog raises "off-air monitor down" and starts the
next generation (streaming/off_air_supervision.py).
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection

from stage.models import StageState
from stage.program_card import line_names
from stage.state import LIVE
from streaming import lease, off_air_history
from streaming.core.envelopes import ENVELOPE_FILE, EnvelopeTail
from streaming.core.off_air import MonitorSettings, OffAirMonitor, Reading
from streaming.host import hls_dir, owner_name
from streaming.models import OffAirLease
from streaming.off_air_viewer import StreamViewer, ViewerError

log = logging.getLogger(__name__)

MONITOR_DOWN = "monitor_down"
# After the stage ended, how long to wait for the playlist's ENDLIST before stopping anyway.
END_GRACE_SECONDS = 30.0


def monitor_settings() -> MonitorSettings:
    return MonitorSettings(
        dead_air_seconds=settings.OFF_AIR_DEAD_AIR_SECONDS,
        silence_db=settings.OFF_AIR_SILENCE_DB,
        loudness_target=settings.OFF_AIR_LOUDNESS_TARGET,
        loudness_tolerance=settings.OFF_AIR_LOUDNESS_TOLERANCE,
        latency_max=settings.OFF_AIR_LATENCY_MAX_SECONDS,
        stall_seconds=settings.OFF_AIR_STALL_SECONDS,
        # The first playlist comes once the mixer has started, which it has this long to do.
        first_playlist_seconds=settings.MIXER_START_GRACE_SECONDS,
    )


def run_off_air_monitor(event_id: int, generation: int, report: Callable[[dict], None]) -> str:
    """Watch the event's stream until it ends, the lease is lost or SIGTERM; return why it stopped."""
    if not lease.start(event_id, generation, owner_name(), model=OffAirLease):
        log.warning("off-air monitor of event %s generation %s was superseded before it started", event_id, generation)
        connection.close()
        return "superseded"
    stop = threading.Event()
    previous_handler = None
    if threading.current_thread() is threading.main_thread():
        previous_handler = signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    log.info("off-air monitor of event %s generation %s started in %s", event_id, generation, owner_name())
    try:
        reason = OffAirWatch(event_id, generation, report).run(stop)
    finally:
        lease.release(event_id, generation, model=OffAirLease)
        if previous_handler is not None:
            signal.signal(signal.SIGTERM, previous_handler)
        connection.close()
    log.info("off-air monitor of event %s generation %s stopped: %s", event_id, generation, reason)
    return reason


class OffAirWatch:
    """The monitor's loop for one event and generation."""

    def __init__(self, event_id: int, generation: int, report: Callable[[dict], None]) -> None:
        self.event_id = event_id
        self.generation = generation
        self.report = report
        self.monitor = OffAirMonitor(monitor_settings())
        timeout = max(1.0, min(5.0, settings.OFF_AIR_LEASE_SECONDS / 3))
        self.viewer = StreamViewer(
            settings.OFF_AIR_BASE_URL,
            event_id,
            secret=settings.HLS_PASS_SECRET,
            pass_seconds=settings.HLS_PASS_SECONDS,
            timeout=timeout,
        )
        self.record = EnvelopeTail(hls_dir(event_id) / ENVELOPE_FILE)
        self.version = -1
        self.phase = LIVE
        self.stage_alarms: dict[str, dict] = {}
        self.adopted = False
        self.ended_at: float | None = None
        self.map_uri: str | None = None
        self._next_renewal = 0.0

    def run(self, stop: threading.Event) -> str:
        while not stop.is_set():
            started = time.monotonic()
            try:
                outcome = self.round()
            except DatabaseError:
                log.warning("off-air monitor of event %s lost the database; trying again", self.event_id)
                connection.close()
                outcome = None
            if outcome is not None:
                return outcome
            stop.wait(max(0.0, settings.OFF_AIR_POLL_SECONDS - (time.monotonic() - started)))
        return "stopped"

    def round(self) -> str | None:
        """One reload: the lease, the stage, the record, the playlist and its new segments."""
        if time.monotonic() >= self._next_renewal:
            close_old_connections()
            if not lease.renew(self.event_id, self.generation, model=OffAirLease):
                return "lost_lease"
            self._next_renewal = time.monotonic() + settings.OFF_AIR_RENEW_SECONDS
        self._follow_stage()
        self.monitor.envelopes(self.record.read())
        readings = self._listen()
        self.monitor.tick(time.time())
        for change in self.monitor.changes():
            self._alarm(change.alarm, change.active, change.detail, change.at)
        if MONITOR_DOWN in self.stage_alarms:
            # Up and reading: whatever stopped the last monitor is over.
            self._alarm(MONITOR_DOWN, False, "", time.time())
            self.stage_alarms.pop(MONITOR_DOWN)
        readings = [reading for reading in readings if reading.pdt is not None]
        if readings:
            off_air_history.save_readings(self.event_id, readings)
            for reading in readings:
                self.report(self._report(reading))
        if self.monitor.ended:
            off_air_history.close_all(self.event_id, time.time())
            return "ended"
        if self.phase != LIVE:
            self.ended_at = self.ended_at or time.monotonic()
            if time.monotonic() - self.ended_at > END_GRACE_SECONDS:
                off_air_history.close_all(self.event_id, time.time())
                return "ended without an ENDLIST"
        return None

    def _listen(self) -> list[Reading]:
        try:
            text = self.viewer.get().decode("utf-8", errors="replace")
        except ViewerError as error:
            self.monitor.playlist_failed(f"the playlist could not be fetched: {error}", time.time())
            return []
        readings = []
        for segment in self.monitor.playlist(text, time.time()):
            if self.monitor.map_uri != self.map_uri:
                self._fetch_map()
            try:
                data = self.viewer.get(segment.uri)
            except ViewerError as error:
                self.monitor.segment_missing(segment, str(error), time.time())
                continue
            reading = self.monitor.segment(segment, data, time.time())
            if reading is not None:
                readings.append(reading)
        return readings

    def _fetch_map(self) -> None:
        self.map_uri = self.monitor.map_uri
        try:
            self.monitor.init_section = self.viewer.get(self.map_uri) if self.map_uri else b""
        except ViewerError:
            self.map_uri = None  # tried again with the next segment

    def _follow_stage(self) -> None:
        """The stage's names for the lines, who it has on air (muted or not), its phase and the
        alarms it shows; a new monitor starts from the alarms the last one raised."""
        version = StageState.objects.filter(event_id=self.event_id).values_list("version", flat=True).first()
        if version is None or version == self.version:
            return
        state = StageState.objects.get(event_id=self.event_id).document
        self.version = state["version"]
        self.phase = state["phase"]
        names = line_names(state)
        self.monitor.line_names = names
        on_air = [names.get(line_id, line_id) for line_id, line in state["lines"].items() if line["on_air"]]
        self.monitor.set_on_air(on_air, time.time())
        self.stage_alarms = dict(state.get("off_air_alarms", {}))
        if not self.adopted:
            self.adopted = True
            for alarm, raised in self.stage_alarms.items():
                self.monitor.adopt(alarm, raised["detail"], raised["since"])

    def _alarm(self, alarm: str, active: bool, detail: str, at: float) -> None:
        """Tell the stage (through the report path, as the mixer tells it line health) and the history."""
        if not lease.holds(self.event_id, self.generation, model=OffAirLease):
            return  # a monitor the watchdog replaced has nothing more to say
        self.report({"type": "off_air_alarm", "alarm": alarm, "active": active, "detail": detail})
        off_air_history.record_alarm(self.event_id, alarm, active, detail, at)
        log.log(
            logging.WARNING if active else logging.INFO,
            "off-air alarm %s %s for event %s: %s",
            alarm,
            "raised" if active else "cleared",
            self.event_id,
            detail,
        )

    def _report(self, reading: Reading) -> dict:
        return {
            "type": "off_air",
            "at": reading.pdt,
            "latency_s": reading.latency,
            "momentary_lufs": reading.momentary,
            "short_term_lufs": reading.short_term,
            "integrated_lufs": reading.integrated,
            "true_peak_dbtp": reading.true_peak,
            "heard": list(reading.heard),
            "target_lufs": float(self.monitor.settings.loudness_target),
            "latency_max_s": float(self.monitor.latency_limit),
        }
