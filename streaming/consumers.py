"""The browser microphone's socket: WebM/Opus slices from a presenter's MediaRecorder to their line.

`ws/events/<event>/lines/<line>/uplink/<presenter>/<key>/`: the presenter's magic link admits
them to their own line only. Every connection is a session of its own and must open with a WebM
header; a newer connection for the same line takes over and the older one is told so (4409).
Slices are forwarded as they come (streaming/uplink.py), and about once a second the browser
hears what arrived, so the green room can show that it is being received.
"""

import json
import logging
import time
import uuid

from channels.generic.websocket import AsyncWebsocketConsumer

from stage.greenroom import admitted_presenter
from stage.groups import presenter_group, uplink_group
from streaming.core.uplink import EBML_MAGIC
from streaming.uplink import uplink_sender

log = logging.getLogger(__name__)

# 100 ms of Opus is well under 2 KiB; a WebM header well under 4 KiB.
MAX_SLICE_BYTES = 64 * 1024
# Opus at 64 kb/s is 8 KB/s; four times that, with room for the backlog a stalled page flushes
# (it starts over past 256 KiB), and nothing lets one socket fill the server's or Redis's memory.
MAX_BYTES_PER_SECOND = 32 * 1024
MAX_BURST_BYTES = 320 * 1024
STATUS_EVERY_SECONDS = 1.0
CLOSE_BAD_MEDIA = 4400
CLOSE_FORBIDDEN = 4403
CLOSE_SUPERSEDED = 4409


class UplinkConsumer(AsyncWebsocketConsumer):
    async def connect(self) -> None:
        kwargs = self.scope["url_route"]["kwargs"]
        self.event_id, self.line_id = int(kwargs["event_id"]), kwargs["line"]
        self.session = uuid.uuid4().hex
        self.seq = 0
        self.bytes = 0
        self.last_status = 0.0
        self.sender = None
        self.allowance = TokenBucket(MAX_BYTES_PER_SECOND, MAX_BURST_BYTES)
        self.group = uplink_group(self.event_id, self.line_id)
        presenter = await admitted_presenter(self.event_id, kwargs["presenter_id"], kwargs["key"])
        if presenter is not None and presenter == self.line_id:
            self.sender = self.make_sender()
            # Whoever held the line before this connection hands it over (before the browser
            # hears it is connected, so an overlapping old connection is told first).
            await self.channel_layer.group_send(self.group, {"type": "uplink.superseded", "by": self.channel_name})
            await self.channel_layer.group_add(self.group, self.channel_name)
            await self.channel_layer.group_add(presenter_group(self.event_id, presenter), self.channel_name)
        await self.accept()
        if self.sender is None:
            log.warning("uplink refused for line %s of event %s", self.line_id, self.event_id)
            await self.refuse("forbidden", "This link may not send audio to that line.", CLOSE_FORBIDDEN)

    def make_sender(self):
        """Where slices go: Redis streams scaled out, the runner's pipe embedded."""
        return uplink_sender(self.event_id)

    async def disconnect(self, code: int) -> None:
        if self.sender is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)
            await self.channel_layer.group_discard(presenter_group(self.event_id, self.line_id), self.channel_name)
            await self.sender.close()
            self.sender = None

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.sender is None:
            return
        if bytes_data is None:
            await self.send_json({"type": "error", "error": error("malformed", "Send audio as binary frames.")})
            return
        if len(bytes_data) > MAX_SLICE_BYTES:
            await self.refuse("bad_media", "An audio slice is at most 64 KiB; record in short slices.")
            return
        if not self.allowance.take(len(bytes_data)):
            await self.refuse("too_fast", "More audio than a microphone sends; the uplink starts over.")
            return
        if self.seq == 0 and not bytes_data.startswith(EBML_MAGIC):
            await self.refuse("bad_media", "The stream must start with a WebM header (audio/webm;codecs=opus).")
            return
        await self.sender.send(self.line_id, self.session, self.seq, bytes_data)
        self.seq += 1
        self.bytes += len(bytes_data)
        now = time.monotonic()
        if now - self.last_status >= STATUS_EVERY_SECONDS:
            self.last_status = now
            await self.send_json({"type": "uplink", "receiving": True, "bytes": self.bytes, "chunks": self.seq})

    async def uplink_superseded(self, message: dict) -> None:
        if message["by"] != self.channel_name:
            await self.refuse("superseded", "This line is now sent from another connection.", CLOSE_SUPERSEDED)

    async def presenter_revoked(self, message: dict) -> None:
        await self.refuse("revoked", "This link was revoked.", CLOSE_FORBIDDEN)

    async def refuse(self, code: str, message: str, close_code: int = CLOSE_BAD_MEDIA) -> None:
        """Say why, then close; nothing of this connection reaches the mix any more."""
        await self.disconnect(close_code)
        await self.send_json({"type": "error", "error": error(code, message)})
        await self.close(code=close_code)

    async def send_json(self, content: dict) -> None:
        await self.send(text_data=json.dumps(content))


class TokenBucket:
    """Bytes a socket may still send: refilled at `rate` per second, up to `burst`."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate, self.burst = rate, burst
        self.tokens, self.at = burst, time.monotonic()

    def take(self, amount: int) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if amount > self.tokens:
            return False
        self.tokens -= amount
        return True


def error(code: str, message: str) -> dict:
    return {"code": code, "message": message}
