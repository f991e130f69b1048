"""Where segments leave the mix loop: a thread of their own writes them, in order.

Publishing a segment writes files (the segment, both playlists, the recording) and first asks
whether the mixer still holds its lease, which asks the database. Either can take a moment that
a 20 ms tick does not have: a busy SQLite file or a slow disk once held a tick for a quarter of
a second, and with it every presenter's return, which the browsers then buffer against for
seconds. So the mix loop hands each piece of publishing work here and ticks on; the work runs
in the order it was handed over, and what it raised is raised again in the mix loop.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable


class Publisher:
    """Runs submitted work in order on its own thread. The first failure stops it: later work is
    not run (a segment after a missing one would be a hole in the playlist), and `submit`,
    `check` and `close` raise it in the caller's thread."""

    def __init__(self, name: str = "publisher") -> None:
        self._queue: queue.SimpleQueue[Callable[[], None] | None] = queue.SimpleQueue()
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def submit(self, work: Callable[[], None]) -> None:
        """Run `work` after everything submitted before it; never waits for it."""
        self.check()
        self._queue.put(work)

    def check(self) -> None:
        """Raise what publishing raised, if anything did."""
        if self.error is not None:
            raise self.error

    def close(self) -> None:
        """Run what is still queued, stop the thread, then raise what publishing raised."""
        self._queue.put(None)
        self._thread.join()
        self.check()

    def _run(self) -> None:
        while (work := self._queue.get()) is not None:
            if self.error is not None:
                continue
            try:
                work()
            except BaseException as error:  # handed to the mix loop, which stops on it
                self.error = error
