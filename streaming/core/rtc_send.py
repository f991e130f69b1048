"""A return's Opus packets sent from the bridge's one wake-up a tick, not by aiortc's sender task.

aiortc's `RTCRtpSender` takes each packet from its track in a task of its own: on every tick,
for every peer, a queue put, the task woken, a step of the loop to pack and send, another to
wait again. The returns are already Opus packets when the `Outbox` wakes the loop (once a tick
for every peer), so `DirectSend` does there and then, for each packet, what
`RTCRtpSender._run_rtp` does for a pre-encoded one: the RTP header (its sequence number, its
timestamp on the mix's clock from a random origin, the header extensions negotiated), SRTP and
the send through the DTLS transport, and the counters the sender's RTCP task puts in its sender
reports (packets, octets, the last NTP/RTP timestamp pair: the peer's receiver reports answer
them, which is how the line's round trip is measured). It keeps no history for retransmission:
aiortc negotiates no NACK for Opus, so no peer asks for one.

aiortc's own RTP task stays, idle on the track's `recv()` until the call ends, so the sender is
started, reports and stops as aiortc does it. What this needs of aiortc (1.16) is private: the
sender's name-mangled state and the DTLS transport's `_send_rtp`; all of it is here, and
`DirectSend` refuses a sender that lacks any of it.
"""

from __future__ import annotations

import asyncio
import struct
import time
import types
from collections.abc import Coroutine

from aiortc import RTCRtpSender
from aiortc.rtcrtpsender import random_sequence_number
from aiortc.rtp import RtpPacket
from aiortc.utils import random32, uint16_add, uint32_add

# The sender's private state this module reads or keeps up to date, as aiortc names it.
_STARTED = "_RTCRtpSender__started"
_MID = "_RTCRtpSender__mid"
_EXTENSIONS = "_RTCRtpSender__rtp_header_extensions_map"
_NTP_TIMESTAMP = "_RTCRtpSender__ntp_timestamp"
_RTP_TIMESTAMP = "_RTCRtpSender__rtp_timestamp"
_OCTETS = "_RTCRtpSender__octet_count"
_PACKETS = "_RTCRtpSender__packet_count"
SENDER_STATE = (_STARTED, _MID, _EXTENSIONS, _NTP_TIMESTAMP, _RTP_TIMESTAMP, _OCTETS, _PACKETS)


class DirectSend:
    """Sends one sender's packets, each when `send` is called (on the sender's loop)."""

    def __init__(self, sender: RTCRtpSender, payload_type: int) -> None:
        missing = [name for name in SENDER_STATE if not hasattr(sender, name)]
        if missing:
            raise TypeError(f"this aiortc's RTCRtpSender has none of {missing}: rtc_send.py needs updating")
        self.sender = sender
        self.payload_type = payload_type
        # As aiortc's task starts its own (which stays unused).
        self.sequence_number = random_sequence_number()
        self.timestamp_origin = random32()
        self._header: tuple[bytes, bytes] | None = None

    def ready(self) -> bool:
        """Whether the sender was started: the call connected and its parameters are known."""
        return getattr(self.sender, _STARTED) and self.sender._enabled

    def send(self, payload: bytes, samples: int) -> None:
        """One Opus packet whose first sample is the stream's `samples`-th (48 kHz, Opus's RTP
        clock), out now. ConnectionError when the call's transport can no longer send."""
        sender = self.sender
        if self._header is None:
            self._header = self._fixed_header()
        head, tail = self._header
        timestamp = uint32_add(self.timestamp_origin, samples)
        packet = b"".join((head, SEQUENCE_AND_TIMESTAMP.pack(self.sequence_number, timestamp), tail, payload))
        run_now(sender.transport._send_rtp(packet))
        setattr(sender, _NTP_TIMESTAMP, ntp_now())
        setattr(sender, _RTP_TIMESTAMP, timestamp)
        setattr(sender, _OCTETS, getattr(sender, _OCTETS) + len(payload))
        setattr(sender, _PACKETS, getattr(sender, _PACKETS) + 1)
        self.sequence_number = uint16_add(self.sequence_number, 1)

    def _fixed_header(self) -> tuple[bytes, bytes]:
        """What every packet's header holds but its sequence number and timestamp (RFC 3550's
        fixed header: 2 bytes before them, the SSRC and the header extensions after), as
        aiortc's own packet serializes it: the marker set (aiortc marks the last packet of each
        frame, and an Opus packet is one), the mid extension (the only one aiortc negotiates
        for audio that a pre-encoded packet carries: no audio level, no send time)."""
        packet = RtpPacket(payload_type=self.payload_type, marker=1, ssrc=self.sender._ssrc)
        packet.extensions.mid = getattr(self.sender, _MID)
        header = packet.serialize(getattr(self.sender, _EXTENSIONS))
        return header[:2], header[8:]


# The RTP header's sequence number and timestamp, network order.
SEQUENCE_AND_TIMESTAMP = struct.Struct("!HL")
NTP_EPOCH_SECONDS = 2208988800  # 1900 to 1970


def ntp_now() -> int:
    """The wall clock as a 64-bit NTP timestamp, as aiortc's `clock.current_ntp_time` has it
    (the pair a sender report gives the peer, with the last packet's RTP timestamp)."""
    return int((time.time() + NTP_EPOCH_SECONDS) * (1 << 32))


def run_now(coroutine: Coroutine) -> None:
    """Run a coroutine to its end here, without a step of the loop. The DTLS transport's send
    is a coroutine that never waits (SRTP, then the ICE pair's `sendto`; a TURN relay's
    channel binding is a task of aioice's own); should one ever wait, a task finishes it."""
    try:
        waiting = coroutine.send(None)
    except StopIteration:
        return
    task = asyncio.ensure_future(_resume(coroutine, waiting))
    _finishing.add(task)  # the loop keeps only a weak reference to a task
    task.add_done_callback(_finishing.discard)


_finishing: set[asyncio.Future] = set()


@types.coroutine
def _resume(coroutine: Coroutine, waiting):
    yield waiting  # the task waits on what the coroutine waited on, then resumes it
    return (yield from coroutine)
