"""The mixer's WebRTC adapter (streaming/core/rtc.py): where its packets may go, decided by pure
functions and our loop, and a real call between two aiortc peers on 127.0.0.1 only."""

import asyncio
import ipaddress
import socket
import threading
import time
from fractions import Fraction

import av
import numpy as np
import pytest
from aiortc.jitterbuffer import JitterFrame
from aiortc.mediastreams import MediaStreamError
from aiortc.rtp import RtpPacket

from events.harness import wait_for
from streaming.core import FRAME_SAMPLES, SAMPLE_RATE
from streaming.core.peers import PRESENTER_PEER, PeerAudio
from streaming.core.rtc import (
    TIME_BASE,
    InboundAudio,
    InlineDecoding,
    InOrderAudio,
    Outbox,
    ReturnEncoder,
    ReturnTrack,
    RtcBridge,
    RtcConfig,
    RtcLoop,
    address_allowed,
    bind_in_range,
    candidate_allowed,
    filter_candidates,
)
from tests.audio import tone_level
from tests.rtc_client import RtcClient

LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"),)
# Candidates as Chromium offers them (documentation and ULA addresses stand in for the host's).
OFFER = "\r\n".join(
    [
        "v=0",
        "m=audio 9 UDP/TLS/RTP/SAVPF 111",
        "a=candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host generation 0",
        "a=candidate:2 1 udp 2122260223 192.0.2.10 50001 typ host generation 0",
        "a=candidate:3 1 udp 2122262783 fd00::1 50002 typ host generation 0",
        "a=candidate:4 1 tcp 1518280447 127.0.0.1 9 typ host tcptype active generation 0",
        "a=candidate:5 1 udp 2122260223 0f3c2a1e-aaaa.local 50003 typ host generation 0",
        "a=candidate:6 1 udp 1686052607 203.0.113.7 50004 typ srflx raddr 192.0.2.10 rport 50001",
        "a=candidate:7 1 udp 2122260223 ::1 50005 typ host generation 0",
        "a=end-of-candidates",
        "",
    ]
)


def test_only_udp_candidates_on_allowed_networks_stay():
    kept = filter_candidates(OFFER, LOOPBACK)
    candidates = [line for line in kept.splitlines() if line.startswith("a=candidate:")]
    assert candidates == ["a=candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host generation 0"]
    assert "m=audio 9 UDP/TLS/RTP/SAVPF 111" in kept and "a=end-of-candidates" in kept


def test_the_candidate_decision():
    ipv6_loopback = (ipaddress.ip_network("::1/128"),)
    assert candidate_allowed("candidate:7 1 udp 1 ::1 5 typ host", ipv6_loopback)
    assert not candidate_allowed("candidate:7 1 udp 1 ::1 5 typ host", LOOPBACK)  # families never mix
    assert not candidate_allowed("candidate:1 1 UDP 1 10.0.0.1 5 typ host", LOOPBACK)
    assert candidate_allowed("candidate:1 1 UDP 1 127.0.0.2 5 typ host", LOOPBACK)
    assert not candidate_allowed("candidate:1 1 tcp 1 127.0.0.1 9 typ host", LOOPBACK)
    assert not candidate_allowed("candidate:1 1 udp", LOOPBACK)  # malformed: dropped


def test_without_a_filter_the_offer_is_unchanged():
    assert filter_candidates(OFFER, ()) == OFFER


def test_the_configuration_is_always_explicit():
    assert RtcConfig().rtc_configuration().iceServers == []
    config = RtcConfig(ice_servers=[{"urls": "turn:127.0.0.1:3478", "username": "u", "credential": "p"}])
    (server,) = config.rtc_configuration().iceServers
    assert (server.urls, server.username, server.credential) == ("turn:127.0.0.1:3478", "u", "p")
    with pytest.raises(ValueError):
        RtcConfig(port_range=(5000, 4000))
    with pytest.raises(ValueError):
        RtcConfig(candidate_networks=["not a network"])


def free_udp_range(size: int) -> tuple[int, int]:
    """Some UDP ports on 127.0.0.1 free a moment ago (the test binds them itself)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        low = probe.getsockname()[1]
    low = min(low, 65535 - size)
    return low, low + size - 1


def test_ports_come_from_the_range_and_run_out_clearly():
    low, high = free_udp_range(2)
    first = bind_in_range("127.0.0.1", (low, high))
    second = bind_in_range("127.0.0.1", (low, high))
    try:
        assert {first.getsockname()[1], second.getsockname()[1]} == {low, high}
        with pytest.raises(OSError, match="no free UDP port"):
            bind_in_range("127.0.0.1", (low, high))
    finally:
        first.close()
        second.close()


def test_the_loop_maps_port_zero_to_the_range_and_names_its_host_addresses():
    import aioice.ice

    low, high = free_udp_range(4)
    loop = RtcLoop(host_addresses=["127.0.0.1"], port_range=(low, high))

    async def endpoint():
        transport, _ = await loop.create_datagram_endpoint(asyncio.DatagramProtocol, local_addr=("127.0.0.1", 0))
        port = transport.get_extra_info("sockname")[1]
        transport.close()
        return port, aioice.ice.get_host_addresses(True, True)

    try:
        port, addresses = loop.run_until_complete(endpoint())
    finally:
        loop.close()
    assert low <= port <= high
    assert addresses == ["127.0.0.1"]


def to_audio_frame(frame: np.ndarray, pts: int) -> av.AudioFrame:
    """A (2, n) float frame as interleaved s16 stereo (a (1, n) one as mono), its pts counting
    samples at 48 kHz: what a decoder of packed s16 (aiortc's own Opus decoder) hands on."""
    interleaved = (np.clip(frame.T, -1.0, 1.0) * 32767).astype(np.int16).reshape(1, -1)
    layout = "mono" if frame.shape[0] == 1 else "stereo"
    audio = av.AudioFrame.from_ndarray(interleaved, format="s16", layout=layout)
    audio.sample_rate = SAMPLE_RATE
    audio.pts = pts
    audio.time_base = TIME_BASE
    return audio


def test_frames_both_ways():
    inbound = InboundAudio()
    t = np.arange(3 * FRAME_SAMPLES // 2) / SAMPLE_RATE
    tone = np.tile(0.5 * np.sin(2 * np.pi * 440 * t), (2, 1)).astype(np.float32)
    audio = to_audio_frame(tone, 960)
    assert (audio.format.name, audio.layout.name, audio.sample_rate) == ("s16", "stereo", SAMPLE_RATE)
    assert (audio.pts, audio.time_base) == (960, Fraction(1, SAMPLE_RATE))
    frames = inbound.frames(audio) + inbound.frames(to_audio_frame(tone, 960 + len(t)))
    assert [frame.shape for frame in frames] == [(2, FRAME_SAMPLES)] * 3
    assert all(frame.dtype == np.float32 for frame in frames)
    assert np.allclose(np.concatenate(frames, axis=1)[:, : len(t)], tone, atol=1e-3)


def test_audio_packets_are_handed_on_as_they_arrive_in_order():
    """aiortc's own buffer would hold each packet until the next came (20 ms on every line)."""
    overtaken = []
    buffer = InOrderAudio(lambda: overtaken.append(1))

    def arrive(sequence: int) -> bytes | None:
        packet = RtpPacket(sequence_number=sequence, timestamp=sequence * FRAME_SAMPLES)
        packet._data = bytes([sequence % 256])
        frame = buffer.add(packet)[1]
        return frame.data if frame is not None else None

    assert arrive(65534) == b"\xfe"
    assert arrive(65535) == b"\xff"
    assert arrive(1) == b"\x01"  # 0 was lost (or is late): 1 goes on at once, across the wrap
    assert arrive(0) is None  # late: the frame after it is already played
    assert arrive(1) is None  # a duplicate
    assert arrive(2) == b"\x02"
    assert len(overtaken) == 2  # the late one and the duplicate, each counted where it was cut


def test_a_decoded_opus_packet_becomes_the_engines_frame_as_the_resampler_would_make_it():
    t = np.arange(FRAME_SAMPLES) / SAMPLE_RATE
    tone = np.stack([0.5 * np.sin(2 * np.pi * 440 * t), 0.25 * np.cos(2 * np.pi * 660 * t)]).astype(np.float32)
    fast = InboundAudio().frames(to_audio_frame(tone, 0))
    general = InboundAudio()
    general.fifo.write(general.resampler.resample(to_audio_frame(tone, 0))[0])
    expected = general.fifo.read(FRAME_SAMPLES).to_ndarray()
    assert len(fast) == 1 and fast[0].shape == (2, FRAME_SAMPLES) and fast[0].dtype == np.float32
    assert fast[0].flags.c_contiguous
    assert np.array_equal(fast[0], expected)


class Peers:
    """What the engine would be told by the bridge's `on_peer`."""

    def __init__(self):
        self.current: dict[str, PeerAudio] = {}
        self.calls: list[tuple[str, PeerAudio | None]] = []

    def __call__(self, peer_id, peer):
        self.calls.append((peer_id, peer))
        if peer is None:
            self.current.pop(peer_id, None)
        else:
            self.current[peer_id] = peer


class Mix(threading.Thread):
    """The mix thread's part: every 20 ms a return frame (a tone) to each peer."""

    def __init__(self, peers: Peers, frequency: float):
        super().__init__(daemon=True)
        self.peers, self.frequency, self.stop = peers, frequency, threading.Event()

    def run(self):
        start, ticks = time.monotonic(), 0
        while not self.stop.is_set():
            t = (ticks * FRAME_SAMPLES + np.arange(FRAME_SAMPLES)) / SAMPLE_RATE
            frame = np.tile(0.3 * np.sin(2 * np.pi * self.frequency * t), (2, 1)).astype(np.float32)
            peers = list(self.peers.current.values())
            for peer in peers:
                peer.send_return(frame)
            for flush in {peer.after_returns for peer in peers if peer.after_returns is not None}:
                flush()  # as the engine does once a tick: the returns leave together
            ticks += 1
            self.stop.wait(max(0.0, start + ticks * FRAME_SAMPLES / SAMPLE_RATE - time.monotonic()))


def inbound_samples(peer: PeerAudio, frames: list) -> tuple[np.ndarray] | None:
    """Drain the peer's inbound queue into `frames`; one second of it, mono, once there is."""
    while (frame := peer.inbound.pop()) is not None:
        frames.append(frame[0])
    return (np.concatenate(frames[-50:]),) if len(frames) >= 50 else None


@pytest.mark.timeout(60)
def test_a_peer_talks_to_the_bridge_and_hears_its_return():
    peers = Peers()
    low, high = free_udp_range(20)
    bridge = RtcBridge(
        RtcConfig(host_addresses=["127.0.0.1"], candidate_networks=["127.0.0.0/8"], port_range=(low, high)), peers
    )
    client = RtcClient(frequency=440.0)
    mix = Mix(peers, frequency=880.0)
    mix.start()
    try:
        answer = bridge.answer("p1", PRESENTER_PEER, client.make_offer())
        candidates = [line.split()[4:6] for line in answer.splitlines() if line.startswith("a=candidate:")]
        assert candidates and all(address == "127.0.0.1" and low <= int(port) <= high for address, port in candidates)
        client.accept(answer)
        peer = peers.current["p1"]
        wait_for(lambda: client.state == "connected", 15, "the call to connect")

        frames: list = []
        (heard,) = wait_for(lambda: inbound_samples(peer, frames), 15, "a second of the peer's voice")
        assert tone_level(heard, 440.0) > 0.2, "the peer's tone reaches the engine"
        assert peer.inbound.active()

        wait_for(lambda: tone_level(client.heard(), 880.0) > 0.2, 15, "the return reaching the peer")
        stats = wait_for(lambda: peer.stats.get("jitter_ms") is not None and peer.stats, 10, "link statistics")
        assert stats["state"] == "connected" and stats["loss_pct"] is not None
        # The round trip is the peer's receiver reports answering the return's sender reports:
        # their counters and timestamps are kept by whatever sends the return.
        stats = wait_for(lambda: peer.stats.get("rtt_ms") is not None and peer.stats, 10, "a round trip")
        assert 0 <= stats["rtt_ms"] < 1000

        # A network change: a new offer for the same peer replaces the call and keeps its PeerAudio.
        client.accept(bridge.answer("p1", PRESENTER_PEER, client.make_offer(hang_up=False)))
        wait_for(lambda: client.state == "connected", 15, "the new call to connect")
        assert peers.current["p1"] is peer and (("p1", None) not in peers.calls)
        frames.clear()
        wait_for(lambda: inbound_samples(peer, frames), 15, "the voice again after the change")

        # A reload: the old call hangs up first; the peer is back with the new one.
        client.accept(bridge.answer("p1", PRESENTER_PEER, client.make_offer()))
        wait_for(lambda: client.state == "connected", 15, "the call after the reload")
        frames.clear()
        wait_for(lambda: inbound_samples(peers.current["p1"], frames), 15, "the voice again after the reload")

        # The peer hangs up: the bridge tells the engine it is gone.
        client.run(client.pc.close())
        wait_for(lambda: "p1" not in peers.current, 40, "the peer removed")
    finally:
        mix.stop.set()
        client.close()
        bridge.close()
    assert peers.calls[-1] == ("p1", None)


def test_a_bad_offer_is_refused_and_the_bridge_closes_cleanly():
    peers = Peers()
    bridge = RtcBridge(RtcConfig(host_addresses=["127.0.0.1"], candidate_networks=["127.0.0.0/8"]), peers)
    try:
        with pytest.raises(ValueError, match="no audio"):
            bridge.answer("p1", PRESENTER_PEER, "v=0\r\n")
        with pytest.raises(ValueError, match="could not be answered"):
            bridge.answer("p1", PRESENTER_PEER, "v=0\r\nm=audio 9 nonsense\r\n")
    finally:
        bridge.close()
    assert peers.current == {}


class Sent:
    """Stands in for a connected call's `DirectSend`: what the loop sent, as (payload, samples)."""

    def __init__(self, connected: bool = True, error: Exception | None = None):
        self.connected, self.error, self.packets = connected, error, []

    def ready(self) -> bool:
        return self.connected

    def send(self, payload: bytes, samples: int) -> None:
        if self.error is not None:
            raise self.error
        self.packets.append((payload, samples))


def test_each_return_leaves_from_the_loops_one_wake_up_a_tick():
    """The Outbox's wake-up sends every peer's packet itself: no queue, no sender task's step."""

    async def run() -> list[list[tuple[bytes, int]]]:
        outbox = Outbox(asyncio.get_running_loop())
        tracks = [ReturnTrack(outbox, "mono") for _ in range(3)]
        for track in tracks:
            track.sending = Sent()
        for tick in range(2):
            for track in tracks:
                track.offer(np.full((2, 960), tick / 10, dtype=np.float32))
            outbox.flush()
            await asyncio.sleep(0)  # one turn of the loop: the tick's packets are out
            assert [len(track.sending.packets) for track in tracks] == [tick + 1] * 3
        return [track.sending.packets for track in tracks], [track.dropped for track in tracks]

    sent, dropped = asyncio.run(run())
    assert [[samples for _, samples in packets] for packets in sent] == [[0, 960]] * 3
    assert all(payload for packets in sent for payload, _ in packets) and dropped == [0, 0, 0]


def test_returns_the_loop_could_not_send_in_time_leave_a_gap_in_the_timestamps():
    """Frames come at the mix's pace; those skipped because the loop fell behind must not pull
    the stream's timestamps back (the browser would take it for network delay and buffer more)."""

    async def run() -> tuple[list[int], list[int], list[int]]:
        outbox = Outbox(asyncio.get_running_loop())
        track, other = ReturnTrack(outbox), ReturnTrack(outbox)
        track.sending, other.sending = Sent(), Sent()
        for number in range(5):  # the loop was busy for five ticks: two go, three were skipped
            track.offer(np.full((2, 960), number / 10, dtype=np.float32))
            if number == 4:
                other.offer(np.zeros((2, 960), dtype=np.float32))  # a peer that joined since
            outbox.flush()
        await asyncio.sleep(0)  # the loop catches up
        sent = [samples for _, samples in track.sending.packets]
        return sent, [samples for _, samples in other.sending.packets], [track.dropped, other.dropped]

    sent, other_sent, dropped = asyncio.run(run())
    assert sent == [3 * 960, 4 * 960] and other_sent == [0]
    assert dropped == [3, 0]


def test_a_return_goes_nowhere_until_the_call_connects_and_ends_the_track_when_it_cannot_send():
    async def run() -> tuple[list, str, bool]:
        outbox = Outbox(asyncio.get_running_loop())
        track = ReturnTrack(outbox)
        track.offer(np.zeros((2, 960), dtype=np.float32))  # no call yet
        outbox.flush()
        await asyncio.sleep(0)
        track.sending = Sent(connected=False)  # answered, not connected
        track.offer(np.zeros((2, 960), dtype=np.float32))
        outbox.flush()
        await asyncio.sleep(0)
        waiting = asyncio.ensure_future(track.recv())  # aiortc's sender task, idle all along
        await asyncio.sleep(0)
        assert not waiting.done()
        track.sending = Sent(error=ConnectionError("Cannot send encrypted RTP, not connected"))
        track.offer(np.zeros((2, 960), dtype=np.float32))
        outbox.flush()
        await asyncio.sleep(0)
        with pytest.raises(MediaStreamError):
            await waiting  # the sender's task ends, as aiortc's own would on that error
        return track.readyState, track.dropped, track.samples

    state, dropped, samples = asyncio.run(run())
    assert (state, dropped, samples) == ("ended", 0, 3 * 960)


def test_returns_are_opus_packets_that_decode_to_what_the_mix_sent():
    """Encoded on the mix thread, so aiortc's sender only packs them: a 440 Hz return decodes
    (as the browser would) to 440 Hz at the level sent."""
    encoder = ReturnEncoder()
    t = np.arange(50 * FRAME_SAMPLES) / SAMPLE_RATE
    tone = np.tile(0.25 * np.sin(2 * np.pi * 440 * t), (2, 1)).astype(np.float32)
    packets = [
        packet
        for tick in range(50)
        for packet in encoder.encode(tone[:, tick * FRAME_SAMPLES : (tick + 1) * FRAME_SAMPLES], tick * FRAME_SAMPLES)
    ]
    assert [packet.pts for packet in packets] == [tick * FRAME_SAMPLES for tick in range(50)]
    decoder = av.CodecContext.create("libopus", "r")
    inbound = InboundAudio()
    decoded = [frame for packet in packets for frame in decoder.decode(packet)]
    heard = np.concatenate([samples for frame in decoded for samples in inbound.frames(frame)], axis=1)
    steady = heard[0, 10 * FRAME_SAMPLES :]
    assert tone_level(steady, 440) == pytest.approx(0.25, abs=0.02)
    assert tone_level(steady, 880) < 0.005


def test_a_presenters_mono_return_decodes_to_both_channels_of_what_the_mix_sent():
    """A presenter's return is mono (half the encoder's work): the browser's stereo decoder plays
    the mix's two channels, averaged, on both ears."""
    encoder = ReturnEncoder("mono")
    t = np.arange(50 * FRAME_SAMPLES) / SAMPLE_RATE
    left, right = 0.3 * np.sin(2 * np.pi * 440 * t), 0.2 * np.sin(2 * np.pi * 660 * t)
    mix = np.stack([left, right]).astype(np.float32)
    packets = [
        packet
        for tick in range(50)
        for packet in encoder.encode(mix[:, tick * FRAME_SAMPLES : (tick + 1) * FRAME_SAMPLES], tick * FRAME_SAMPLES)
    ]
    decoder = av.CodecContext.create("libopus", "r")
    decoder.format, decoder.layout, decoder.sample_rate = "s16", "stereo", SAMPLE_RATE  # as aiortc's and a browser's
    inbound = InboundAudio()
    heard = np.concatenate(
        [samples for packet in packets for frame in decoder.decode(packet) for samples in inbound.frames(frame)], axis=1
    )
    for channel in heard[:, 10 * FRAME_SAMPLES :]:
        assert tone_level(channel, 440) == pytest.approx(0.15, abs=0.02)
        assert tone_level(channel, 660) == pytest.approx(0.10, abs=0.02)


def test_a_return_is_mono_or_stereo():
    with pytest.raises(ValueError, match="mono or stereo"):
        ReturnEncoder("5.1")


def test_the_loop_is_deaf_to_datagrams_from_outside_its_networks():
    """Decided by the source address alone: no packet is sent anywhere."""
    networks = [ipaddress.ip_network("127.0.0.0/8")]
    assert address_allowed("127.0.0.1", networks) and not address_allowed("192.0.2.2", networks)
    assert not address_allowed("fe80::1%eth0", networks) and not address_allowed("host.local", networks)

    class Heard(asyncio.DatagramProtocol):
        def __init__(self) -> None:
            self.heard = []

        def datagram_received(self, data, address) -> None:
            self.heard.append(address[0])

    async def run() -> list[str]:
        transport, protocol = await asyncio.get_running_loop().create_datagram_endpoint(
            Heard, local_addr=("127.0.0.1", 0)
        )
        transport.close()
        protocol.datagram_received(b"check", ("192.0.2.2", 40000))  # what the transport would call
        protocol.datagram_received(b"check", ("127.0.0.1", 40000))
        return protocol.heard

    loop = RtcLoop(host_addresses=["127.0.0.1"], networks=networks)
    try:
        assert loop.run_until_complete(run()) == ["127.0.0.1"]
    finally:
        loop.close()


def test_the_bridge_decodes_a_browsers_opus_straight_into_the_engines_frames():
    """FFmpeg's Opus decoder (not libopus's s16) gives planar float stereo: the engine's frame as
    it is, a mono voice on both channels at the level it was spoken."""
    encoder = av.CodecContext.create("libopus", "w")  # a browser's microphone: mono Opus
    encoder.bit_rate, encoder.format, encoder.layout, encoder.sample_rate = 32000, "s16", "mono", SAMPLE_RATE
    t = np.arange(50 * FRAME_SAMPLES) / SAMPLE_RATE
    voice = (0.3 * 32767 * np.sin(2 * np.pi * 440 * t)).astype(np.int16)
    packets = []
    for start in range(0, len(voice), FRAME_SAMPLES):
        frame = av.AudioFrame.from_ndarray(voice[None, start : start + FRAME_SAMPLES], format="s16", layout="mono")
        frame.sample_rate, frame.pts = SAMPLE_RATE, start
        packets += encoder.encode(frame)
    peer = PeerAudio("p1", PRESENTER_PEER)
    decoding = InlineDecoding(peer)
    for number, packet in enumerate(packets):
        decoding.put((None, JitterFrame(data=bytes(packet), timestamp=number * FRAME_SAMPLES)))
    assert peer.inbound.pushed == len(packets)
    frames = [peer.inbound._frames[index][0] for index in range(len(peer.inbound))]  # the newest it holds
    assert len(frames) >= 5
    assert all(frame.shape == (2, FRAME_SAMPLES) and frame.dtype == np.float32 for frame in frames)
    heard = np.concatenate(frames, axis=1)
    for channel in heard:
        assert tone_level(channel, 440) == pytest.approx(0.3, abs=0.03)
