"""Reports as JSON lines on stdout: how a child process of the embedded runner (a mixer, an off-air
monitor) reports to the server, which reads its pipe (streaming/runners.py)."""

import contextlib
import json
import queue
import sys
import threading

# Reports waiting for the pipe; past this the process drops them rather than wait for its parent.
MAX_QUEUED_REPORTS = 100


class StdoutReports:
    """Writes reports as JSON lines from a thread of its own, so the mix loop never blocks on a pipe."""

    def __init__(self) -> None:
        self.queue: queue.Queue[dict] = queue.Queue(MAX_QUEUED_REPORTS)
        threading.Thread(target=self._write, name="mixer-report-pipe", daemon=True).start()

    def __call__(self, report: dict) -> None:
        with contextlib.suppress(queue.Full):
            self.queue.put_nowait(report)

    def _write(self) -> None:
        while True:
            report = self.queue.get()
            try:
                sys.stdout.write(json.dumps(report) + "\n")
                sys.stdout.flush()
            except (BrokenPipeError, ValueError):
                return  # the parent is gone
