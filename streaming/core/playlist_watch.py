"""Waiting for a live playlist to reach a point, without a thread per waiter: one asyncio task
per playlist per process looks at the file while anyone waits on it, and wakes each waiter with
the text that has what it waits for.

Why a look at the file and not a message from the mixer: the file is what the answer is made of,
so the answer is never earlier than the file (a message could outrun a shared file system, or be
dropped by the channel layer), and it works alike whoever writes the file: a child process, a
Celery worker on another machine. A look is one stat() of a small local file every POLL_SECONDS,
only while someone waits; the playlist is replaced atomically, so a change is a new inode.
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
        self._poller: asyncio.Task | None = None
        self.looks = 0  # how many times the file was looked at (tests: no waiter, no look)

    async def wait(self, ready: Callable[[Edge], bool], timeout: float) -> bytes | None:
        """The playlist's text as soon as `ready` holds for it, or None after `timeout` seconds.
        The caller has checked the text it read itself: this waits for a later one."""
        future = asyncio.get_running_loop().create_future()
        self._waiters[future] = ready
        if self._poller is None or self._poller.done():
            self._poller = asyncio.get_running_loop().create_task(self._poll())
        try:
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            return None
        finally:
            self._waiters.pop(future, None)

    async def _poll(self) -> None:
        seen = None
        since_read = READ_ANYWAY_SECONDS  # the first look reads: the waiter may have missed a change
        while self._waiters:
            identity = self._identity()
            since_read += self.poll_seconds
            if identity is not None and (identity != seen or since_read >= READ_ANYWAY_SECONDS):
                seen, since_read = identity, 0.0
                self._wake()
            await asyncio.sleep(self.poll_seconds)

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
