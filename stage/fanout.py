"""Fan-out inside one server process: one channel-layer subscription per process and event.

The textbook way puts every socket's channel in the event's group, so a broadcast costs one
layer message, one decode and one `dispatch` (with its thread hop to close old database
connections) per socket. Here each process keeps one feed per event: a single channel in the
event's groups whose receive loop hands each push, already serialised by the sender, to every
local socket of that event with a plain `send`. No ORM runs on this path, so nothing needs the
connection-closing hop, about 0.2 ms per recipient as bench_stage measured it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import weakref
from collections.abc import Callable
from typing import Protocol

from autobahn.websocket.protocol import PreparedMessage
from channels.layers import get_channel_layer

from stage.direct import prepare
from stage.groups import meters_group, stage_group
from stage.projections import CONSOLE, GREENROOM

log = logging.getLogger(__name__)

# Group memberships expire (channels_redis group_expiry) and vanish when Redis restarts without
# its data: renew them often enough that a restart costs seconds of pushes, not minutes (a ZADD
# per group; the clients' version check asks for a snapshot over the gap).
REFRESH_SECONDS = 10.0
# After the layer failed (Redis restarting, a network cut), wait this long before trying again.
RETRY_SECONDS = 1.0


class Subscriber(Protocol):
    """A socket that follows an event: which view it gets, and how to hand it a push. When it
    can take a message framed once for everyone (stage/direct.py), `write_prepared` says how."""

    audience: str
    presenter: str | None
    write_prepared: Callable[[PreparedMessage], None] | None

    async def push(self, text: str, version: int | None) -> None: ...

    async def resync(self) -> None:
        """Send a full snapshot (after pushes may have been lost)."""


class EventFeed:
    """This process's subscription to one event: a channel in its stage and meters groups."""

    def __init__(self, layer, event_id: int) -> None:
        self.layer = layer
        self.event_id = event_id
        self.subscribers: set[Subscriber] = set()
        self.groups = (stage_group(event_id), meters_group(event_id))
        self.channel: str | None = None
        self.started: asyncio.Future | None = None
        self.tasks: list[asyncio.Task] = []

    async def start(self) -> None:
        self.channel = await self.layer.new_channel()
        await self._join_groups()
        self.tasks = [asyncio.create_task(self._receive()), asyncio.create_task(self._refresh())]

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self.channel is not None:
            for group in self.groups:
                await self.layer.group_discard(group, self.channel)

    async def _receive(self) -> None:
        while True:
            try:
                message = await self.layer.receive(self.channel)
            except Exception:
                log.warning("stage feed of event %s lost the channel layer; joining again", self.event_id)
                await self._recover()
                continue
            try:
                await self.deliver(message)
            except Exception:
                log.exception("stage feed of event %s could not deliver %s", self.event_id, message.get("type"))

    async def _refresh(self) -> None:
        while True:
            await asyncio.sleep(REFRESH_SECONDS)
            await self._join_groups()

    async def _join_groups(self) -> None:
        for group in self.groups:
            await self.layer.group_add(group, self.channel)

    async def _recover(self) -> None:
        """Join the groups again (a restarted Redis forgot them) and, since pushes were lost
        meanwhile, send every local socket a fresh snapshot."""
        while True:
            await asyncio.sleep(RETRY_SECONDS)
            try:
                await self._join_groups()
                break
            except Exception:
                continue
        for subscriber in list(self.subscribers):
            try:
                await subscriber.resync()
            except Exception:
                log.exception("stage feed of event %s could not resync a socket", self.event_id)

    async def deliver(self, message: dict) -> None:
        """Hand one layer message to every local socket that should see it."""
        if message["type"] == "stage.push":
            version, private = message["version"], message.get("private") or {}
            texts = {CONSOLE: message[CONSOLE], GREENROOM: message[GREENROOM]}
        elif message["type"] == "mixer.report":
            version, private = None, {}
            texts = {CONSOLE: json.dumps(message["report"])}  # once for all the consoles here
        else:
            return
        prepared: dict[str, PreparedMessage] = {}
        for subscriber in list(self.subscribers):
            text = texts.get(subscriber.audience)
            if text is None:
                continue
            write = subscriber.write_prepared
            if write is not None:
                if subscriber.audience not in prepared:
                    prepared[subscriber.audience] = prepare(text)
                _write(write, prepared[subscriber.audience])
            else:
                await _push(subscriber, text, version)
            if subscriber.presenter in private:
                await _push(subscriber, private[subscriber.presenter], None)


async def _push(subscriber: Subscriber, text: str, version: int | None) -> None:
    try:
        await subscriber.push(text, version)
    except Exception:
        # One broken socket must not keep the push from the others.
        log.exception("push to a stage socket failed")


def _write(write: Callable[[PreparedMessage], None], message: PreparedMessage) -> None:
    try:
        write(message)
    except Exception:
        log.exception("push to a stage socket failed")


# Feeds per event loop: daphne runs one loop; tests run one per test.
_feeds: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[int, EventFeed]] = weakref.WeakKeyDictionary()


def _loop_feeds() -> dict[int, EventFeed]:
    return _feeds.setdefault(asyncio.get_running_loop(), {})


async def join(event_id: int, subscriber: Subscriber) -> None:
    """Follow an event from this socket; returns once this process is subscribed to it."""
    feeds = _loop_feeds()
    feed = feeds.get(event_id)
    if feed is None:
        feed = feeds[event_id] = EventFeed(get_channel_layer(), event_id)
        feed.started = asyncio.ensure_future(feed.start())
    feed.subscribers.add(subscriber)
    try:
        await asyncio.shield(feed.started)
    except Exception:
        feed.subscribers.discard(subscriber)
        if feeds.get(event_id) is feed and not feed.subscribers:
            del feeds[event_id]
        raise


async def leave(event_id: int, subscriber: Subscriber) -> None:
    """Stop following; the last socket of an event in this process ends the subscription."""
    feeds = _loop_feeds()
    feed = feeds.get(event_id)
    if feed is None:
        return
    feed.subscribers.discard(subscriber)
    if not feed.subscribers:
        del feeds[event_id]
        with contextlib.suppress(Exception):
            await feed.started
        await feed.stop()


def local_sockets(event_id: int) -> int:
    """How many sockets of the event this process serves (for tests and metrics)."""
    feed = _loop_feeds().get(event_id)
    return len(feed.subscribers) if feed else 0
