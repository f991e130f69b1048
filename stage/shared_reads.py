"""One database read shared by the sockets of an event that ask for a snapshot at once.

When a server dies, its sockets reconnect to the others together, and when the channel layer
comes back every socket is resynced: hundreds of snapshots of the same stage within a second.
Each read was a transaction, the stage's document decoded and the audit log's newest entries, on
the one thread Channels gives database work (`manage.py bench_load`: 2.2 ms of CPU each, the
commands of the producers waiting behind them). Here the askers share reads: at most one read
per key runs, and everyone who asks while it runs shares the next one.

Never an older one: a socket asks after it joined the event's feed, and only pushes from then
on are kept for it, so its snapshot must be read after it asked. A read that began before the
asker came may miss a push the socket never gets; the next read begins after.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

T = TypeVar("T")


class SharedReads(Generic[T]):
    """`await reads.get(key)`: the result of `read(key)` begun no earlier than the call, shared
    with every other caller whose call it also began after."""

    def __init__(self, read: Callable[[Hashable], Awaitable[T]]) -> None:
        self.read = read
        self._running: dict[tuple, asyncio.Future] = {}  # begun reading
        self._next: dict[tuple, asyncio.Future] = {}  # not begun yet: anyone asking now may share it

    async def get(self, key: Hashable) -> T:
        # Futures belong to a loop: a process with several (tests) keeps their reads apart.
        slot = (asyncio.get_running_loop(), key)
        reading = self._next.get(slot)
        if reading is None:
            reading = self._next[slot] = asyncio.ensure_future(self._read(slot, self._running.get(slot)))
        # One asker cancelled (its socket closed) does not cancel the others' read.
        return await asyncio.shield(reading)

    async def _read(self, slot: tuple, after: asyncio.Future | None) -> T:
        if after is not None:
            with contextlib.suppress(Exception):  # its askers have its failure; this one reads anew
                await after
        task = self._next.pop(slot)
        self._running[slot] = task
        try:
            return await self.read(slot[1])
        finally:
            if self._running.get(slot) is task:
                del self._running[slot]
