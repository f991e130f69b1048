"""Carrying browser uplinks from the server that receives them to the mixer that plays them.

Scaled out (REDIS_URL set) the server appends each slice to the event's Redis stream and keeps
each line's newest WebM header in a hash, so a mixer started or restarted mid-session can still
decode the line; the mixer reads the stream with blocking XREADs. In the embedded default the
server writes framed slices to its mixer child's stdin (streaming/runners.py) and the child
reads them here. Either way the mixer ends up with one `UplinkBuffer` per line.

The same way carries control messages to the mixer (WebRTC signals from the stage sockets,
stage/mixer_mail.py): a control frame on the pipe (never kept as a line's header), an entry with
a "c" field in the stream. The mixer's `Uplinks` hands them to its `on_control` callback.
"""

from __future__ import annotations

import json
import logging
import struct
import threading
import time
from collections.abc import Callable, Iterator
from typing import BinaryIO

import redis
import redis.asyncio
from django.conf import settings

from streaming.core.uplink import UplinkBuffer

log = logging.getLogger(__name__)

# How long the Redis stream keeps slices: trimmed by age, so its memory is bounded by the
# uplinks' byte rate (which the socket limits), not by a count of slices of any size.
STREAM_KEEP_MS = 60_000
HEADERS_TTL_SECONDS = 24 * 3600
# Pipe frames: line, session (each length-prefixed), sequence number, then the slice. A control
# frame has an empty line (a line id never is) and JSON for its slice.
_FRAME_HEAD = struct.Struct("!I")
_FIELDS = struct.Struct("!BBI")


def stream_key(event_id: int) -> str:
    return f"uplink:{event_id}"


def headers_key(event_id: int) -> str:
    return f"uplink:{event_id}:headers"


def uses_redis() -> bool:
    return bool(settings.REDIS_URL)


# --- The server's side -------------------------------------------------------------------------


class RedisUplinkSender:
    """Appends one socket's slices to the event's stream (one connection per uplink socket)."""

    def __init__(self, event_id: int) -> None:
        self.event_id = event_id
        self.client = redis.asyncio.Redis.from_url(settings.REDIS_URL)

    async def send(self, line_id: str, session: str, seq: int, chunk: bytes) -> None:
        async with self.client.pipeline(transaction=False) as pipe:
            pipe.xadd(
                stream_key(self.event_id),
                {"l": line_id, "s": session, "n": seq, "d": chunk},
                minid=int(time.time() * 1000) - STREAM_KEEP_MS,
                approximate=True,
            )
            if seq == 0:
                pipe.hset(headers_key(self.event_id), mapping={f"{line_id}:s": session, f"{line_id}:d": chunk})
                pipe.expire(headers_key(self.event_id), HEADERS_TTL_SECONDS)
            await pipe.execute()

    async def close(self) -> None:
        await self.client.aclose()


class PipeUplinkSender:
    """Hands slices to the embedded runner, which writes them to the event's mixer child."""

    def __init__(self, event_id: int) -> None:
        from streaming.runners import get_runner

        self.event_id = event_id
        self.runner = get_runner()

    async def send(self, line_id: str, session: str, seq: int, chunk: bytes) -> None:
        self.runner.send_uplink(self.event_id, line_id, encode_frame(line_id, session, seq, chunk), header=seq == 0)

    async def close(self) -> None:
        pass


async def send_control(event_id: int, message: dict) -> bool:
    """Hand a control message to the event's mixer (registered with stage/mixer_mail.py); False
    when there is no way to it (embedded: no mixer child of this process)."""
    if uses_redis():
        client = redis.asyncio.Redis.from_url(settings.REDIS_URL)
        try:
            minid = int(time.time() * 1000) - STREAM_KEEP_MS
            await client.xadd(stream_key(event_id), {"c": json.dumps(message)}, minid=minid, approximate=True)
        finally:
            await client.aclose()
        return True
    from streaming.runners import get_runner

    return get_runner().send_control(event_id, encode_control(message))


def uplink_sender(event_id: int) -> RedisUplinkSender | PipeUplinkSender:
    return RedisUplinkSender(event_id) if uses_redis() else PipeUplinkSender(event_id)


def encode_frame(line_id: str, session: str, seq: int, chunk: bytes) -> bytes:
    line, sess = line_id.encode(), session.encode()
    body = _FIELDS.pack(len(line), len(sess), seq) + line + sess + chunk
    return _FRAME_HEAD.pack(len(body)) + body


def encode_control(message: dict) -> bytes:
    return encode_frame("", "", 0, json.dumps(message).encode())


def read_frames(stream: BinaryIO) -> Iterator[tuple[str, str, int, bytes]]:
    """(line, session, seq, slice) for each frame on `stream`, until it closes."""
    while head := stream.read(_FRAME_HEAD.size):
        if len(head) < _FRAME_HEAD.size:
            return
        body = stream.read(_FRAME_HEAD.unpack(head)[0])
        line_length, session_length, seq = _FIELDS.unpack_from(body)
        start = _FIELDS.size
        line = body[start : start + line_length].decode()
        session = body[start + line_length : start + line_length + session_length].decode()
        yield line, session, seq, body[start + line_length + session_length :]


# --- The mixer's side --------------------------------------------------------------------------


class Uplinks:
    """The mixer's buffer per browser line, filled by one receiver thread from either transport."""

    def __init__(self, event_id: int, on_control: Callable[[dict], None] | None = None) -> None:
        self.event_id = event_id
        self.on_control = on_control
        self._buffers: dict[str, UplinkBuffer] = {}
        self._lock = threading.Lock()

    def buffer(self, line_id: str) -> UplinkBuffer:
        with self._lock:
            if line_id not in self._buffers:
                self._buffers[line_id] = UplinkBuffer()
            return self._buffers[line_id]

    def push(self, line_id: str, session: str, seq: int, chunk: bytes) -> None:
        self.buffer(line_id).push(session, seq, chunk)

    def control(self, data: bytes) -> None:
        """A control message: to the callback, never to a line; a broken one is logged and dropped."""
        try:
            message = json.loads(data)
        except ValueError:
            log.warning("uplinks of event %s: an unreadable control message was dropped", self.event_id)
            return
        if self.on_control is None:
            return
        try:
            self.on_control(message)
        except Exception:
            log.exception("uplinks of event %s: a control message failed", self.event_id)

    def receive_from_pipe(self, stream: BinaryIO) -> threading.Thread:
        return self._start(self._read_pipe, stream)

    def receive_from_redis(self, stop: threading.Event) -> threading.Thread:
        return self._start(self._read_redis, stop)

    def _start(self, target, argument) -> threading.Thread:
        thread = threading.Thread(target=target, args=(argument,), name=f"uplinks-{self.event_id}", daemon=True)
        thread.start()
        return thread

    def _read_pipe(self, stream: BinaryIO) -> None:
        for line_id, session, seq, chunk in read_frames(stream):
            if line_id:
                self.push(line_id, session, seq, chunk)
            else:
                self.control(chunk)

    def _read_redis(self, stop: threading.Event) -> None:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=10)
        last_id = None
        while not stop.is_set():
            try:
                if last_id is None:
                    last_id = self._catch_up(client)
                found = client.xread({stream_key(self.event_id): last_id}, block=500, count=500)
            except redis.RedisError:
                log.warning("uplinks of event %s: Redis unavailable; retrying", self.event_id)
                stop.wait(1.0)
                continue
            for _, entries in found or []:
                for entry_id, fields in entries:
                    last_id = entry_id
                    if b"c" in fields:
                        self.control(fields[b"c"])
                        continue
                    self.push(fields[b"l"].decode(), fields[b"s"].decode(), int(fields[b"n"]), fields[b"d"])
        client.close()

    def _catch_up(self, client: redis.Redis) -> str:
        """Each line's newest header (a session under way), then read on from the stream's end."""
        newest = client.xrevrange(stream_key(self.event_id), count=1)
        headers = client.hgetall(headers_key(self.event_id))
        for key, value in headers.items():
            line_id, _, part = key.decode().rpartition(":")
            if part == "s":
                self.push(line_id, value.decode(), 0, headers.get(f"{line_id}:d".encode(), b""))
        # From an empty stream's start, everything appended from now on is read.
        return newest[0][0] if newest else "0-0"
