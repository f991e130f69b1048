"""A socket's messages handed to their handlers one turn of the event loop after they arrive.

Channels waits for a consumer's next message, from the page or from the channel layer, with
`asyncio.wait` over one task per source (`channels.utils.await_many_dispatch`). A message the
server hands over then reaches its handler on the third turn of the loop after it: the source's
task wakes and returns, its completion wakes `asyncio.wait`, and that wakes the consumer. On a
saturated server each turn first serves hundreds of other requests: with 2,000 viewers a
producer's take waited half a second there before anything was done with it (bench_audience,
README). Here each source has a task that awaits its next message and dispatches it itself, so a
message is handled on the turn after it arrives. A lock keeps what Channels promises: one
handler at a time, each source's messages in the order they came, nothing handled after a
handler ended the consumer (StopConsumer) or failed, and a source's failure ends it only once the
handler under way has finished.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable


async def dispatch_each(sources: list[Callable[[], Awaitable[dict]]], dispatch: Callable[[dict], Awaitable]) -> None:
    """Dispatch every message of every source, one at a time, until a dispatch raises (which
    this raises: StopConsumer when the consumer is done)."""
    turn = asyncio.Lock()
    ended = False

    async def pump(source: Callable[[], Awaitable[dict]]) -> None:
        nonlocal ended
        while True:
            try:
                message = await source()
            except Exception:
                # A source failing (the channel layer's Redis down) ends the consumer, as with
                # Channels, once the handler under way has finished: a socket's admission, say,
                # which tells the page to come back later rather than leave it unanswered.
                async with turn:
                    ended = True
                raise
            async with turn:
                if ended:
                    return
                try:
                    await dispatch(message)
                except BaseException:
                    ended = True
                    raise

    pumps = [asyncio.ensure_future(pump(source)) for source in sources]
    try:
        # A pump ends only by raising, or after another one raised.
        done, _ = await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
        failures = [task.exception() for task in done if task.exception() is not None]
        if failures:
            raise failures[0]
    finally:
        waiting = [task for task in pumps if not task.done()]
        for task in waiting:
            task.cancel()
        for task in waiting:
            with contextlib.suppress(asyncio.CancelledError):
                await task
