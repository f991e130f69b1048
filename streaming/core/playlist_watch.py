"""Waiting for a live playlist to reach a point, without a thread per waiter: one timer per
playlist per process looks at the file while anyone waits on it, and wakes each waiter with the
text that has what it waits for.

Why a look at the file and not a message from the mixer: the file is what the answer is made of,
so the answer is never earlier than the file (a message could outrun a shared file system, or be
dropped by the channel layer), and it works alike whoever writes the file: a child process, a
Celery worker on another machine. A look is one stat() of a small local file every POLL_SECONDS,
only while someone waits; the playlist is replaced atomically, so a change is a new inode.

Each step is a plain callback, not a task: the look runs in the loop's turn its timer is due, and
a waiter gets its text on the next. A task that slept between looks, and waiters behind
`asyncio.wait_for`, took three turns more, and on a saturated server every turn first serves
hundreds of other requests (a stage change waited there for the low-latency viewers:
bench_audience, README).
"""

from __future__ import annotations

import asyncio
import os
import weakref
from collections.abc import Callable
from pathlib import Path

from .delivery import Edge, edge

# A part is about 0.3 s; a 20 ms look adds at most that to its answer.
POLL_SECONDS = 0.02
# Also read the file this often while anyone waits, changed or not: an inode number can be reused
# within the file system's timestamp granularity, with the same size.
READ_ANYWAY_SECONDS = 0.5


class PlaylistWatch:
    """Waiters on one playlist file."""

    def __init__(self, path: Path, poll_seconds: float = POLL_SECONDS) -> None:
        self.path = Path(path)
        self.poll_seconds = poll_seconds
        self._waiters: dict[asyncio.Future, Callable[[Edge], bool]] = {}
        self._next_look: asyncio.TimerHandle | asyncio.Handle | None = None  # while anyone waits
        self._seen: tuple[int, int, int] | None = None
        self._since_read = 0.0
        self.looks = 0  # how many times the file was looked at (tests: no waiter, no look)

    @property
    def looking(self) -> bool:
        return self._next_look is not None

    async def wait(self, ready: Callable[[Edge], bool], timeout: float) -> bytes | None:
        """The playlist's text as soon as `ready` holds for it, or None after `timeout` seconds.
        The caller has checked the text it read itself: this waits for a later one."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._waiters[future] = ready
        if self._next_look is None:
            # The first look reads: the waiter may have missed a change.
            self._seen, self._since_read = None, READ_ANYWAY_SECONDS
            self._next_look = loop.call_soon(self._look)
        expiry = loop.call_later(timeout, _expire, future)
        try:
            return await future
        finally:
            expiry.cancel()
            self._waiters.pop(future, None)

    def _look(self) -> None:
        """One look at the file, then the next one, as long as anyone waits."""
        if not self._waiters:
            self._next_look = None
            return
        try:
            identity = self._identity()
            self._since_read += self.poll_seconds
            if identity is not None and (identity != self._seen or self._since_read >= READ_ANYWAY_SECONDS):
                self._seen, self._since_read = identity, 0.0
                self._wake()
        finally:
            self._next_look = asyncio.get_running_loop().call_later(self.poll_seconds, self._look)

    def _identity(self) -> tuple[int, int, int] | None:
        self.looks += 1
        try:
            status = os.stat(self.path)
        except FileNotFoundError:
            return None
        return status.st_ino, status.st_mtime_ns, status.st_size

    def _wake(self) -> None:
        try:
            text = self.path.read_bytes()
        except FileNotFoundError:
            return
        at = edge(text.decode())
        for future, ready in list(self._waiters.items()):
            if not future.done() and ready(at):
                future.set_result(text)


def _expire(future: asyncio.Future) -> None:
    if not future.done():
        future.set_result(None)


_watches: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[Path, PlaylistWatch]] = (
    weakref.WeakKeyDictionary()
)


def watch(path: Path) -> PlaylistWatch:
    """The running event loop's watch of this playlist (one per playlist per process)."""
    watches = _watches.setdefault(asyncio.get_running_loop(), {})
    path = Path(path)
    if path not in watches:
        watches[path] = PlaylistWatch(path)
    return watches[path]
