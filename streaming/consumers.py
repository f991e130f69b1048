"""The browser microphone's socket: WebM/Opus slices from a presenter's MediaRecorder to their line.

`ws/events/<event>/lines/<line>/uplink/<presenter>/<key>/`: the presenter's magic link admits
them to their own line only. Every connection is a session of its own and must open with a WebM
header; a newer connection for the same line takes over and the older one is told so (4409).
Slices are forwarded as they come (streaming/uplink.py), and about once a second the browser
hears what arrived, so the green room can show that it is being received.
"""

import logging
import time
import uuid

from stage.admission import Admission, AdmittedSocket, Refusal, TokenBucket
from stage.contract.commands import PRESENTER, presenter_actor
from stage.contract.enums import CLOSE_CODES
from stage.greenroom import REVOKED, admit_by_link
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
CLOSE_BAD_MEDIA = CLOSE_CODES["bad_media"]
CLOSE_SUPERSEDED = CLOSE_CODES["superseded"]
SUPERSEDED = Refusal("superseded", "This line is now sent from another connection.", CLOSE_SUPERSEDED)
TOO_LARGE = Refusal("bad_media", "An audio slice is at most 64 KiB; record in short slices.", CLOSE_BAD_MEDIA)
TOO_MUCH = Refusal("too_fast", "More audio than a microphone sends; the uplink starts over.", CLOSE_BAD_MEDIA)
NOT_WEBM = Refusal("bad_media", "The stream must start with a WebM header (audio/webm;codecs=opus).", CLOSE_BAD_MEDIA)


class UplinkConsumer(AdmittedSocket):
    # 100 ms slices are ten a second; a page that stalled flushes its backlog in one go.
    message_rate = 50.0
    message_burst = 300.0

    async def admit(self) -> Admission | Refusal:
        kwargs = self.scope["url_route"]["kwargs"]
        self.event_id, self.line_id = int(kwargs["event_id"]), kwargs["line"]
        presenter = await admit_by_link(self, self.event_id)
        if isinstance(presenter, Refusal):
            return presenter
        if presenter != self.line_id:
            log.warning("uplink refused for line %s of event %s", self.line_id, self.event_id)
            return Refusal("forbidden", "This link may not send audio to that line.")
        return Admission(PRESENTER, presenter_actor(presenter))

    async def opened(self) -> None:
        self.session = uuid.uuid4().hex
        self.seq = 0
        self.bytes = 0
        self.last_status = 0.0
        self.byte_allowance = TokenBucket(MAX_BYTES_PER_SECOND, MAX_BURST_BYTES)
        self.group = uplink_group(self.event_id, self.line_id)
        self.sender = self.make_sender()
        # Whoever held the line before this connection hands it over (before the browser hears
        # that it is connected, so an overlapping old connection is told first).
        await self.channel_layer.group_send(self.group, {"type": "uplink.superseded", "by": self.channel_name})
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.channel_layer.group_add(presenter_group(self.event_id, self.line_id), self.channel_name)

    def make_sender(self):
        """Where slices go: Redis streams scaled out, the runner's pipe embedded."""
        return uplink_sender(self.event_id)

    sender = None

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
            await self.send_error("malformed", "Send audio as binary frames.")
            return
        if len(bytes_data) > MAX_SLICE_BYTES:
            await self.refuse(TOO_LARGE)
            return
        if not self.byte_allowance.take(len(bytes_data)):
            await self.refuse(TOO_MUCH)
            return
        if self.seq == 0 and not bytes_data.startswith(EBML_MAGIC):
            await self.refuse(NOT_WEBM)
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
            await self.refuse(SUPERSEDED)

    async def presenter_revoked(self, message: dict) -> None:
        await self.refuse(REVOKED)

    async def refuse(self, refusal: Refusal) -> None:
        """Say why, then close; nothing of this connection reaches the mix any more."""
        await self.disconnect(refusal.close_code)
        await self.expel(refusal)
