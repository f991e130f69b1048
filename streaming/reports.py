"""Where the reports of a mixer or an off-air monitor go: every report to the event's consoles (the
meters group), and those that change the stage (line health, an off-air alarm) to the stage
itself, as its sender's own command, when the stage accepts them (an alarm goes to the stage
only: consoles see it in the stage's push). A report addressed `to` one socket (the answer to its
WebRTC offer) goes to that socket alone.

Reports come from the mix thread (Celery) or a pipe reader (local), so nothing here may block:
sends are handed to an event loop and meters are dropped while too many are still in flight.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from concurrent.futures import Future

from channels.layers import get_channel_layer

from stage.broadcast import apply_and_broadcast
from stage.groups import meters_group
from streaming import mixer_stats
from streaming.stage_link import STAGE_ONLY_REPORTS, report_command

log = logging.getLogger(__name__)

MAX_IN_FLIGHT = 20


class Forwarder:
    """Sends reports on the server's loop when attached to one, else on a loop thread of its own."""

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        # The in-memory layer's queues belong to the server's loop.
        self.loop = loop
        self.in_flight = 0
        self.dropped = 0
        self._lock = threading.Lock()

    def forward(self, event_id: int, report: dict) -> None:
        if report.get("type") == "stats":  # for the operators' metrics (kept off this thread), not the consoles
            self._submit(asyncio.to_thread(mixer_stats.keep, event_id, report))
            return
        if "to" in report:
            message = {key: value for key, value in report.items() if key != "to"}
            self._submit(get_channel_layer().send(report["to"], {"type": "stage.signal", "message": message}))
            return
        command = report_command(report)
        if report.get("type") == "meters" and self.in_flight >= MAX_IN_FLIGHT:
            self.dropped += 1  # meters are superseded ten times a second; changes are never dropped
            return
        if report.get("type") not in STAGE_ONLY_REPORTS:
            layer = get_channel_layer()
            self._submit(layer.group_send(meters_group(event_id), {"type": "mixer.report", "report": report}))
        if command is not None:
            command, role = command
            self._submit(apply_and_broadcast(event_id, command, actor=role, role=role))

    def _submit(self, coroutine) -> None:
        with self._lock:
            if self.loop is None:
                self.loop = asyncio.new_event_loop()
                threading.Thread(target=self.loop.run_forever, name="mixer-reports", daemon=True).start()
            self.in_flight += 1
        future = asyncio.run_coroutine_threadsafe(coroutine, self.loop)
        future.add_done_callback(self._done)

    def _done(self, future: Future) -> None:
        with self._lock:
            self.in_flight -= 1
        if not future.cancelled() and future.exception() is not None:
            log.error("forwarding a mixer report failed: %r", future.exception())
