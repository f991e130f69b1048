"""Fan-out inside one server process: one channel-layer subscription per process and event.

The textbook way puts every socket's channel in the event's group, so a broadcast costs one
layer message, one decode and one `dispatch` (with its thread hop to close old database
connections) per socket. Here each process keeps one feed per event: a single channel in the
event's groups whose receive loop hands each push, already serialised by the sender, to every
local socket of that event with a plain `send`. No ORM runs on this path, so nothing needs the
connection-closing hop, about 0.2 ms per recipient as bench_stage measured it.

Each feed also beats: every STAGE_HEARTBEAT_SECONDS it renews its memberships (a restarted Redis
forgot them) and sends its own channel a heartbeat through the layer. When that comes back, every
local socket hears `heartbeat` with the stage's version: the pages know the way from the layer to
them works, and that no push went missing. When the layer fails, the heartbeats stop, the pages
reconnect, and sockets opening meanwhile are refused for a while (close 4503); when it comes back,
every local socket gets a fresh snapshot.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import weakref
from collections.abc import Callable
from typing import Protocol

from autobahn.websocket.protocol import PreparedMessage
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings

from stage import store
from stage.direct import prepare
from stage.groups import meters_group, stage_group
from stage.projections import CONSOLE, GREENROOM

log = logging.getLogger(__name__)

# After the layer failed to receive (Redis restarting, a network cut), wait this long before trying again.
RETRY_SECONDS = 1.0
HEARTBEAT = "stage.heartbeat"


class Subscriber(Protocol):
    """A socket that follows an event: which view it gets, and how to hand it a push. When it
    can take a message framed once for everyone (stage/direct.py), `write_prepared` says how."""

    audience: str
    presenter: str | None
    write_prepared: Callable[[PreparedMessage], None] | None

    async def push(self, text: str, version: int | None) -> None: ...

    async def resync(self) -> bool:
        """Send a full snapshot (after pushes may have been lost); False if none could be made
        (the socket is then closed)."""


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
        self.every = settings.STAGE_HEARTBEAT_SECONDS
        # Whether the layer works for this feed: false from a failure until a heartbeat came back.
        self.layer_ok = True
        self._version_read: asyncio.Future | None = None

    async def start(self) -> None:
        self.channel = await self.layer.new_channel()
        await self._join_groups()
        self.tasks = [asyncio.create_task(self._receive()), asyncio.create_task(self._beat())]

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self.channel is not None:
            for group in self.groups:
                with contextlib.suppress(Exception):  # a layer that is down forgets them anyway
                    await self.layer.group_discard(group, self.channel)

    async def _receive(self) -> None:
        while True:
            try:
                message = await self.layer.receive(self.channel)
            except Exception:
                self._lost("receive")
                await asyncio.sleep(RETRY_SECONDS)
                continue
            try:
                await self.deliver(message)
            except Exception:
                log.exception("stage feed of event %s could not deliver %s", self.event_id, message.get("type"))

    async def _beat(self) -> None:
        """Renew the memberships and send this feed a heartbeat through the layer, every period."""
        while True:
            await asyncio.sleep(self.every)
            try:
                await self._join_groups()
                await self.layer.send(self.channel, {"type": HEARTBEAT})
            except Exception:
                self._lost("send")

    async def _join_groups(self) -> None:
        for group in self.groups:
            await self.layer.group_add(group, self.channel)

    def _lost(self, what: str) -> None:
        if self.layer_ok:
            log.warning("stage feed of event %s lost the channel layer (%s failed)", self.event_id, what)
        self.layer_ok = False

    async def _regained(self) -> None:
        """The layer works again: pushes were lost meanwhile, so every local socket resyncs."""
        log.warning("stage feed of event %s has the channel layer again; resyncing its sockets", self.event_id)
        self.layer_ok = True
        for subscriber in list(self.subscribers):
            try:
                await subscriber.resync()
            except Exception:
                log.exception("stage feed of event %s could not resync a socket", self.event_id)

    async def deliver(self, message: dict) -> None:
        """Hand one layer message to every local socket that should see it."""
        if message["type"] == HEARTBEAT:
            if not self.layer_ok:
                await self._regained()
            version, private = None, {}
            beat = {"type": "heartbeat", "version": await self._head_version(), "every": self.every}
            text = json.dumps(beat | {"server_time": time.time()})
            texts = {CONSOLE: text, GREENROOM: text}
        elif message["type"] == "stage.push":
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

    async def _head_version(self) -> int | None:
        """The stage's version, read on a thread of its own (a database that hangs must hold up
        neither the heartbeat nor the process's other database work); None when it does not
        answer within half a period."""
        if self._version_read is None or self._version_read.done():
            read = database_sync_to_async(store.head_version, thread_sensitive=False)
            self._version_read = asyncio.ensure_future(read(self.event_id))
        done, _ = await asyncio.wait({self._version_read}, timeout=self.every / 2)
        if not done or self._version_read.exception() is not None:
            return None
        return self._version_read.result()


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


def layer_works(event_id: int) -> bool:
    """Whether this process's feed of the event has the channel layer (or has no feed yet)."""
    feed = _loop_feeds().get(event_id)
    return feed is None or feed.layer_ok


def local_sockets(event_id: int) -> int:
    """How many sockets of the event this process serves (for tests and metrics)."""
    feed = _loop_feeds().get(event_id)
    return len(feed.subscribers) if feed else 0
