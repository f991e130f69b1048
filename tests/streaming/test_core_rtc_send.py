"""A return's packets sent from the Outbox's wake-up (streaming/core/rtc_send.py): the packets
aiortc's own sender would send, and the sender's reports still counting them."""

import asyncio
import time

import av
import pytest
from aiortc import MediaStreamTrack, RTCRtpSender
from aiortc.rtcrtpparameters import (
    RTCRtcpParameters,
    RTCRtpCodecParameters,
    RTCRtpHeaderExtensionParameters,
    RTCRtpSendParameters,
)
from aiortc.rtp import HeaderExtensionsMap, RtcpPacket, RtcpSrPacket, RtpPacket, is_rtcp

from streaming.core.rtc import TIME_BASE
from streaming.core.rtc_send import NTP_EPOCH_SECONDS, DirectSend, run_now

# What aiortc's answer to a browser negotiates for the returns.
PARAMETERS = RTCRtpSendParameters(
    codecs=[RTCRtpCodecParameters(mimeType="audio/opus", clockRate=48000, channels=2, payloadType=111)],
    headerExtensions=[
        RTCRtpHeaderExtensionParameters(id=1, uri="urn:ietf:params:rtp-hdrext:sdes:mid"),
        RTCRtpHeaderExtensionParameters(id=2, uri="urn:ietf:params:rtp-hdrext:ssrc-audio-level"),
    ],
    muxId="0",
    rtcp=RTCRtcpParameters(cname="mixer"),
)
PAYLOADS = [bytes([n]) * (60 + n) for n in range(3)]


class Transport:
    """Stands in for a connected call's DTLS transport: records what the sender sends, clear."""

    state = "connected"
    _stats_id = "transport"

    def __init__(self) -> None:
        self.sent: list[bytes] = []

    def _register_rtp_sender(self, sender, parameters) -> None:
        pass

    def _unregister_rtp_sender(self, sender) -> None:
        pass

    def _get_stats(self) -> dict:
        return {}

    async def _send_rtp(self, data: bytes) -> None:
        self.sent.append(data)

    def rtp(self) -> list[RtpPacket]:
        extensions = HeaderExtensionsMap()
        extensions.configure(PARAMETERS)
        return [RtpPacket.parse(data, extensions) for data in self.sent if not is_rtcp(data)]

    def sender_reports(self) -> list[RtcpSrPacket]:
        return [p for data in self.sent if is_rtcp(data) for p in RtcpPacket.parse(data) if isinstance(p, RtcpSrPacket)]


class Packets(MediaStreamTrack):
    """Pre-encoded packets for aiortc's own sender, then nothing more."""

    kind = "audio"

    def __init__(self, payloads: list[bytes]) -> None:
        super().__init__()
        self.payloads = list(payloads)
        self.samples = 0

    async def recv(self) -> av.Packet:
        if not self.payloads:
            await asyncio.Future()  # until the sender is stopped
        packet = av.Packet(self.payloads.pop(0))
        packet.pts, packet.time_base = self.samples, TIME_BASE
        self.samples += 960
        return packet


async def until(condition, seconds: float = 10.0):
    """`condition()`'s first true value, looked at on every turn of the loop."""
    deadline = time.monotonic() + seconds
    while not (value := condition()):
        if time.monotonic() > deadline:
            raise AssertionError("never came")
        await asyncio.sleep(0.01)
    return value


def test_a_return_packet_is_the_one_aiortcs_sender_would_send_but_for_its_numbering():
    async def run() -> tuple[list[RtpPacket], list[RtpPacket], list[int]]:
        theirs, ours = Transport(), Transport()
        aiortc_sender = RTCRtpSender(Packets(PAYLOADS), theirs)
        sender = RTCRtpSender(Packets([]), ours)
        await aiortc_sender.send(PARAMETERS)
        await sender.send(PARAMETERS)
        direct = DirectSend(sender, 111)
        assert direct.ready()
        for tick, payload in enumerate(PAYLOADS):
            direct.send(payload, tick * 960)
        await until(lambda: len(theirs.rtp()) == len(PAYLOADS))
        await aiortc_sender.stop()
        await sender.stop()
        return theirs.rtp(), ours.rtp(), [aiortc_sender._ssrc, sender._ssrc]

    theirs, ours, (their_ssrc, our_ssrc) = asyncio.run(run())
    assert [packet.payload for packet in ours] == PAYLOADS
    for their, our in zip(theirs, ours, strict=True):
        assert (our.version, our.payload_type, our.marker, our.csrc, our.padding_size) == (
            their.version,
            their.payload_type,
            their.marker,
            their.csrc,
            their.padding_size,
        )
        assert (our.extensions.mid, our.extensions.audio_level) == (their.extensions.mid, their.extensions.audio_level)
        assert (their.ssrc, our.ssrc) == (their_ssrc, our_ssrc)
    assert [packet.sequence_number - ours[0].sequence_number for packet in ours] == [0, 1, 2]
    assert [packet.timestamp - ours[0].timestamp for packet in ours] == [0, 960, 1920]


def test_the_senders_reports_count_what_was_sent_directly():
    """The peer's receiver reports answer these (the line's round trip); the packets and octets
    are what the peer compares with what it received (its loss)."""

    async def run() -> tuple[RtcpSrPacket, list[RtpPacket], dict, int]:
        transport = Transport()
        sender = RTCRtpSender(Packets([]), transport)
        await sender.send(PARAMETERS)
        direct = DirectSend(sender, 111)
        for tick, payload in enumerate(PAYLOADS):
            direct.send(payload, tick * 960)
        sent_at = time.time()
        (report, *_) = await until(transport.sender_reports)  # aiortc's RTCP task, every 0.5 to 1.5 s
        stats = [entry for entry in (await sender.getStats()).values() if entry.type == "outbound-rtp"]
        await sender.stop()
        return report, transport.rtp(), stats[0], sent_at

    report, packets, outbound, sent_at = asyncio.run(run())
    info = report.sender_info
    assert (info.packet_count, info.octet_count) == (3, sum(map(len, PAYLOADS)))
    assert (outbound.packetsSent, outbound.bytesSent) == (3, sum(map(len, PAYLOADS)))
    assert info.rtp_timestamp == packets[-1].timestamp  # the NTP time below is this packet's
    assert info.ntp_timestamp / 2**32 - NTP_EPOCH_SECONDS == pytest.approx(sent_at, abs=0.5)


def test_a_sender_without_the_state_this_aiortc_has_is_refused():
    with pytest.raises(TypeError, match=r"rtc_send\.py needs updating"):
        DirectSend(object(), 111)


def test_a_send_that_would_wait_is_finished_on_the_loop():
    """aiortc's and aioice's sends never wait today; if one did, a task would finish it."""

    async def run() -> list[str]:
        done: list[str] = []
        channel = asyncio.get_running_loop().create_future()

        async def at_once() -> None:
            done.append("at once")

        async def waits() -> None:
            done.append(await channel)

        run_now(at_once())
        assert done == ["at once"]
        run_now(waits())
        channel.set_result("after its wait")
        await until(lambda: len(done) == 2)
        return done

    assert asyncio.run(run()) == ["at once", "after its wait"]
