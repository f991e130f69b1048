"""The mixer's WebRTC adapter: presenters' and producers' browsers connect to the mixer with aiortc.

One `RtcBridge` per mixer process owns one asyncio loop in a daemon thread. Each offer (from a
green room or a console, relayed by the server) gets an RTCPeerConnection there: the peer's voice
is decoded on the loop as each packet arrives and pushed to its `PeerAudio.inbound`, the engine's
jitter buffer; what the engine returns to the peer (`PeerAudio.listener`, called by the mix
thread) is encoded to Opus there and then and sent from the loop, which one `Outbox` wakes once a
tick for every peer. A new offer for the same peer replaces its connection, so a reload or a network change
resumes the same line.

Where packets may go is ours to say, never aiortc's defaults (see the module's tests):
- ICE servers are always explicit: aiortc falls back to Google's public STUN server on None;
- the host addresses offered come from `RtcConfig.host_addresses` when set (aioice never offers
  loopback, and lists every interface otherwise);
- remote candidates outside `candidate_networks` (and every TCP one) are dropped before
  setRemoteDescription when a filter is set, so connectivity checks never leave those networks;
- UDP ports come from `port_range` when set (our loop's `create_datagram_endpoint`).

No Django, nothing of the project: plain asyncio, aiortc, PyAV and numpy.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fractions
import ipaddress
import logging
import queue
import random
import socket
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field

import aioice.ice
import av
import numpy as np
from aiortc import MediaStreamTrack, RTCConfiguration, RTCIceServer, RTCPeerConnection, RTCSessionDescription
from aiortc.jitterbuffer import JitterBuffer, JitterFrame
from aiortc.mediastreams import MediaStreamError
from aiortc.utils import uint16_add

from . import FRAME_SAMPLES, SAMPLE_RATE, TICK_SECONDS
from .jitter import RtpTimeline
from .opus import OpusEncoder
from .peers import PRESENTER_PEER, PeerAudio
from .realtime import raise_priority
from .rtc_send import DirectSend

log = logging.getLogger(__name__)

STATS_SECONDS = 1.0
# A connection that has not connected by then is given up (its candidates may all have been
# filtered away, and aioice waits for more until it is told there are none).
CONNECT_TIMEOUT_SECONDS = 30.0
# Ticks of returns this loop may have fallen behind by and still send them all. Beyond this each
# peer's oldest go (the browser's jitter buffer conceals the skip): sent together, stale, they
# would reach the browser as a burst of late packets, and its buffer would grow to hold the next.
MAX_QUEUED_RETURN_FRAMES = 2
OFFER_TIMEOUT_SECONDS = 20.0
TIME_BASE = fractions.Fraction(1, SAMPLE_RATE)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class RtcConfig:
    """Where the bridge's packets may go. Empty means aioice's own choice for addresses, no
    filter for candidates, any port; ice_servers is always used as given (empty: none)."""

    ice_servers: Sequence[dict] = ()
    host_addresses: Sequence[str] = ()
    candidate_networks: Sequence[str] = ()
    port_range: tuple[int, int] | None = None
    realtime_priority: int = 0  # the loop's thread, as the mix loop's (realtime.py); 0: ordinary
    networks: tuple[Network, ...] = field(init=False, default=())

    def __post_init__(self) -> None:
        parsed = tuple(ipaddress.ip_network(network, strict=False) for network in self.candidate_networks)
        object.__setattr__(self, "networks", parsed)
        if self.port_range is not None:
            low, high = self.port_range
            if not 0 < low <= high < 65536:
                raise ValueError(f"a port range is 1 to 65535, low to high; not {low}-{high}")

    def rtc_configuration(self) -> RTCConfiguration:
        """The explicit configuration every connection gets (never aiortc's default servers)."""
        servers = [
            RTCIceServer(urls=server["urls"], username=server.get("username"), credential=server.get("credential"))
            for server in self.ice_servers
        ]
        return RTCConfiguration(iceServers=servers)


# --- Which remote candidates the bridge may try --------------------------------------------------


def candidate_allowed(line: str, networks: Iterable[Network]) -> bool:
    """Whether an `a=candidate:` line may stay in the remote description: UDP, and an IP address
    in one of `networks` (an mDNS name or a TCP candidate never is)."""
    parts = line.split()
    if len(parts) < 8:
        return False
    transport, address = parts[2], parts[4]
    return transport.lower() == "udp" and address_allowed(address, networks)


def filter_candidates(sdp: str, networks: Sequence[Network]) -> str:
    """The SDP without the candidates the bridge may not try; unchanged without a filter."""
    if not networks:
        return sdp
    kept = [
        line
        for line in sdp.splitlines()
        if not line.startswith("a=candidate:") or candidate_allowed(line[2:], networks)
    ]
    return "\r\n".join(kept) + "\r\n"


# --- Our loop: host addresses and UDP ports ------------------------------------------------------

_original_host_addresses = aioice.ice.get_host_addresses


def _host_addresses(use_ipv4: bool, use_ipv6: bool) -> list[str]:
    """aioice's host addresses, unless the running loop is an RtcLoop that names its own."""
    loop = asyncio.get_running_loop()
    if isinstance(loop, RtcLoop) and loop.host_addresses:
        return list(loop.host_addresses)
    return _original_host_addresses(use_ipv4, use_ipv6)


# aioice calls the module's function by name; the replacement changes nothing for other loops.
aioice.ice.get_host_addresses = _host_addresses


class RtcLoop(asyncio.SelectorEventLoop):
    """An event loop whose UDP endpoints bound to port 0 take a free port of `port_range`, which
    tells aioice which host addresses to offer, and whose UDP endpoints ignore every datagram
    from outside `networks` (when set): a browser also sends checks from its other interfaces'
    sockets, and an answer (or a peer-reflexive pair) must never go back to those addresses."""

    def __init__(
        self,
        host_addresses: Sequence[str] = (),
        port_range: tuple[int, int] | None = None,
        networks: Sequence[Network] = (),
    ) -> None:
        super().__init__()
        self.host_addresses = tuple(host_addresses)
        self.port_range = port_range
        self.networks = tuple(networks)

    async def create_datagram_endpoint(self, protocol_factory, local_addr=None, remote_addr=None, **kwargs):
        # aioice binds each host candidate's socket as (address, 0); other endpoints (a TURN
        # client's, which only talks out to its server) keep the system's ephemeral ports.
        if self.port_range is None or local_addr is None or local_addr[1] != 0 or remote_addr or kwargs:
            endpoint = await super().create_datagram_endpoint(
                protocol_factory, local_addr=local_addr, remote_addr=remote_addr, **kwargs
            )
        else:
            sock = bind_in_range(local_addr[0], self.port_range)
            endpoint = await super().create_datagram_endpoint(protocol_factory, sock=sock)
        if self.networks:
            _only_from(endpoint[1], self.networks)
        return endpoint


def _only_from(protocol: asyncio.DatagramProtocol, networks: Sequence[Network]) -> None:
    """Make `protocol` deaf to datagrams whose source is outside `networks`."""
    receive = protocol.datagram_received
    decided: dict[str, bool] = {}  # every packet's source address parsed once, not per packet

    def datagram_received(data: bytes, address: tuple) -> None:
        allowed = decided.get(address[0])
        if allowed is None:
            if len(decided) >= MAX_REMEMBERED_SOURCES:
                decided.clear()
            allowed = decided[address[0]] = address_allowed(address[0], networks)
        if allowed:
            receive(data, address)

    protocol.datagram_received = datagram_received


# A socket hears from a handful of addresses (the peer's candidates); anything beyond is noise.
MAX_REMEMBERED_SOURCES = 64


def address_allowed(address: str, networks: Iterable[Network]) -> bool:
    """Whether an IP address lies in one of `networks`."""
    try:
        ip = ipaddress.ip_address(address.split("%")[0])
    except ValueError:
        return False
    return any(ip.version == network.version and ip in network for network in networks)


def bind_in_range(host: str, port_range: tuple[int, int]) -> socket.socket:
    """A non-blocking UDP socket bound to `host` on a free port of `port_range` (tried from a
    random start, so concurrent connections rarely race for the same port)."""
    low, high = port_range
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    count = high - low + 1
    start = random.randrange(count)
    for step in range(count):
        port = low + (start + step) % count
        sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            sock.bind((host, port))
        except OSError as error:
            sock.close()
            if error.errno == errno.EADDRINUSE:
                continue
            raise
        sock.setblocking(False)
        return sock
    raise OSError(errno.EADDRINUSE, f"no free UDP port in {low}-{high} on {host}")


# --- Audio both ways -----------------------------------------------------------------------------


class InboundAudio:
    """Decoded frames → (2, 960) float32 frames at 48 kHz. What the bridge's Opus decoder gives
    (planar float stereo at 48 kHz, 20 ms a packet) is the engine's frame as it is, and packed s16
    stereo (aiortc's own decoder's) is converted with numpy; any other shape of frame goes through
    a resampler and a fifo (and whatever the fifo still holds goes first)."""

    def __init__(self) -> None:
        self.resampler = av.AudioResampler(format="fltp", layout="stereo", rate=SAMPLE_RATE)
        self.fifo = av.AudioFifo()

    def frames(self, frame: av.AudioFrame) -> list[np.ndarray]:
        if _is_engine_frame(frame) and not self.fifo.samples:
            if frame.format.name == "fltp":
                return [planar_samples(frame)]
            return [from_s16(frame.to_ndarray())]
        for resampled in self.resampler.resample(frame):
            resampled.pts = None  # the fifo checks continuity; the peer's timestamps may jump
            self.fifo.write(resampled)
        out = []
        while self.fifo.samples >= FRAME_SAMPLES:
            out.append(self.fifo.read(FRAME_SAMPLES).to_ndarray().astype(np.float32, copy=False))
        return out


def _is_engine_frame(frame: av.AudioFrame) -> bool:
    return (
        frame.samples == FRAME_SAMPLES
        and frame.sample_rate == SAMPLE_RATE
        and frame.format.name in ("fltp", "s16")
        and frame.layout.name == "stereo"
    )


def planar_samples(frame: av.AudioFrame) -> np.ndarray:
    """A planar float stereo frame's samples as a new (2, n) float32 array: each plane copied
    once into it (PyAV's `to_ndarray` stacks views of the planes, a few steps more a packet)."""
    samples = np.empty((2, frame.samples), dtype=np.float32)
    for channel, plane in enumerate(frame.planes):
        samples[channel] = np.frombuffer(plane, dtype=np.float32, count=frame.samples)
    return samples


S16_SCALE = np.float32(1 / 32768)


def from_s16(interleaved: np.ndarray) -> np.ndarray:
    """Packed s16 stereo, (1, 2n), as the engine's (2, n) float32 frame."""
    samples = interleaved.reshape(-1, 2)
    frame = np.empty((2, samples.shape[0]), dtype=np.float32)
    np.multiply(samples.T, S16_SCALE, out=frame)
    return frame


# What the returns are encoded as: Opus in its restricted low-delay mode (CELT only, 2.5 ms of
# look-ahead instead of 6.5), at a bitrate and complexity that carry voices for less CPU than
# aiortc's own encoder (96 kb/s, complexity 10): the mixer encodes one return per peer per tick.
# A presenter's return is mono, as an IFB is (a voice in the ear, not the program's image): half
# the encoder's work of a stereo one, and the SDP still says two channels (every Opus decoder
# plays a mono packet on both). A producer's monitor stays stereo: it is for judging the program.
RETURN_COMPLEXITY = 5
RETURN_BITRATE = {"mono": 48000, "stereo": 64000}


class ReturnEncoder:
    """One peer's return frames as Opus packets (`layout` "mono" or "stereo"), their pts the mix's
    own sample count. The engine's frame goes into one reused interleaved buffer, mixed down
    (mono) or interleaved (stereo) in place, and libopus encodes it from there (streaming/core/opus.py:
    PyAV's encoder costs nearly twice as much a tick)."""

    def __init__(self, layout: str = "stereo") -> None:
        if layout not in RETURN_BITRATE:
            raise ValueError(f"a return is mono or stereo, not {layout!r}")
        self.mono = layout == "mono"
        channels = 1 if self.mono else 2
        self.codec = OpusEncoder(channels, SAMPLE_RATE, RETURN_BITRATE[layout], RETURN_COMPLEXITY)
        self._interleaved = np.empty((FRAME_SAMPLES, channels), dtype=np.float32)

    def payload(self, frame: np.ndarray) -> bytes:
        """`frame` is the engine's (2, FRAME_SAMPLES) float frame of a tick (its samples within ±1:
        the returns are clipped at the ceiling); its Opus packet's bytes."""
        interleaved = self._interleaved
        if self.mono:
            np.add(frame[0], frame[1], out=interleaved[:, 0])
            interleaved *= np.float32(0.5)
        else:
            interleaved[:] = frame.T
        return self.codec.encode(interleaved)

    def encode(self, frame: np.ndarray, pts: int) -> list[av.Packet]:
        """`payload` as PyAV's packets, `pts` on the mix's clock (as a decoder takes them)."""
        packet = av.Packet(self.payload(frame))
        packet.pts, packet.time_base = pts, TIME_BASE
        return [packet]


class Outbox:
    """Return packets on their way from the mix thread to the loop: however many peers there are,
    the loop is woken once a tick (`flush`, after the tick's last return) and sends them all
    there and then (`ReturnTrack.send`). A wake-up per packet cost each peer a thread switch every
    20 ms, and more: the loop took each packet while the mix thread encoded the next, so the two
    handed the GIL back and forth through the whole tick. Should the loop fall behind by more
    than `MAX_QUEUED_RETURN_FRAMES` ticks, only each peer's newest go out (`ReturnTrack.dropped`
    counts the others): a burst of stale audio would only grow the browser's buffer."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self._waiting: list[tuple[ReturnTrack, bytes, int]] = []
        self._flushes = 0  # ticks posted since the loop last took them
        self._lock = threading.Lock()

    def post(self, track: ReturnTrack, payload: bytes, samples: int) -> None:
        """From the mix thread; never blocks. Sent at the next `flush`."""
        with self._lock:
            self._waiting.append((track, payload, samples))

    def flush(self) -> None:
        """From the mix thread, once its tick's returns are all posted: wake the loop to send them."""
        with self._lock:
            if not self._waiting:
                return
            self._flushes += 1
            if self._flushes > 1:
                return  # the loop has not taken the last tick's yet: it is woken already
        with contextlib.suppress(RuntimeError):  # the loop closed: the bridge is going down
            self.loop.call_soon_threadsafe(self._deliver)

    def _deliver(self) -> None:
        with self._lock:
            waiting, self._waiting = self._waiting, []
            behind, self._flushes = self._flushes > MAX_QUEUED_RETURN_FRAMES, 0
        if behind:
            waiting = newest(waiting, MAX_QUEUED_RETURN_FRAMES)
        for track, payload, samples in waiting:
            track.send(payload, samples)


def newest(waiting: list[tuple[ReturnTrack, bytes, int]], keep: int) -> list[tuple[ReturnTrack, bytes, int]]:
    """The last `keep` packets of each track, in order; each one left out is counted as dropped."""
    kept: list[tuple[ReturnTrack, bytes, int]] = []
    counts: dict[ReturnTrack, int] = {}
    for item in reversed(waiting):
        track = item[0]
        counts[track] = counts.get(track, 0) + 1
        if counts[track] <= keep:
            kept.append(item)
        else:
            track.dropped += 1
    kept.reverse()
    return kept


class ReturnTrack(MediaStreamTrack):
    """What the peer hears: the engine's return frames, encoded on the mix thread as the mix makes
    them, and sent from the Outbox's wake-up by `DirectSend` (streaming/core/rtc_send.py), once
    the bridge has given it one (`sending`). aiortc's sender task, which would take each packet
    through a queue and a step of the loop of its own, waits in `recv` until the call ends."""

    kind = "audio"

    def __init__(self, outbox: Outbox, layout: str = "stereo") -> None:
        super().__init__()
        self.outbox = outbox
        self.encoder = ReturnEncoder(layout)
        self.sending: DirectSend | None = None
        self.samples = 0  # the mix's time, counted on the mix thread
        self.dropped = 0
        self._ended: asyncio.Future | None = None

    def offer(self, frame: np.ndarray) -> None:
        """From the mix thread, once a tick; never blocks."""
        payload = self.encoder.payload(frame)
        # Every frame counts, sent or skipped: a skipped one is a gap in the timestamps that the
        # browser conceals. Counted from the packets sent instead, every skip would look like
        # the network delaying the stream by 20 ms more, and the browser's buffer would grow.
        self.outbox.post(self, payload, self.samples)
        self.samples += frame.shape[1]

    def send(self, payload: bytes, samples: int) -> None:
        """On the loop: the packet out now, or nowhere (the call not connected yet, or over)."""
        sending = self.sending
        if sending is None or self.readyState != "live" or not sending.ready():
            return
        try:
            sending.send(payload, samples)
        except ConnectionError:
            self.stop()  # as aiortc's sender ends its track when the transport cannot send
        except Exception:
            log.exception("a return could not be sent; the peer hears nothing more of this call")
            self.stop()

    async def recv(self) -> av.Packet:
        if self.readyState == "live":
            self._ended = asyncio.get_running_loop().create_future()
            await self._ended
        raise MediaStreamError

    def stop(self) -> None:
        super().stop()
        if self._ended is not None and not self._ended.done():
            self._ended.set_result(None)


# --- The bridge ----------------------------------------------------------------------------------


def direct_send(pc: RTCPeerConnection, sender) -> DirectSend:
    """The return's way out once the answer is made: the payload type is the first codec of the
    sender's transceiver, what aiortc's peer connection gives its sender to send with."""
    (transceiver,) = [transceiver for transceiver in pc.getTransceivers() if transceiver.sender is sender]
    return DirectSend(sender, transceiver._codecs[0].payloadType)


def link_stats(report: dict, state: str) -> dict:
    """The figures a line's meter shows, from a getStats report: round trip (from the peer's
    receiver reports), jitter and loss of what we receive."""
    stats = {"state": state, "rtt_ms": None, "jitter_ms": None, "loss_pct": None}
    for entry in report.values():
        if entry.type == "remote-inbound-rtp" and entry.roundTripTime is not None:
            stats["rtt_ms"] = round(entry.roundTripTime * 1000, 1)
        elif entry.type == "inbound-rtp":
            # aiortc gives jitter in RTP timestamp units; Opus's clock is 48 kHz.
            stats["jitter_ms"] = round(entry.jitter * 1000 / SAMPLE_RATE, 1)
            expected = entry.packetsReceived + entry.packetsLost
            stats["loss_pct"] = round(100 * max(entry.packetsLost, 0) / expected, 2) if expected else 0.0
    return stats


class _Connection:
    def __init__(self, pc: RTCPeerConnection, peer: PeerAudio, track: ReturnTrack) -> None:
        self.pc = pc
        self.peer = peer
        self.track = track
        self.tasks: list[asyncio.Task] = []


class InOrderAudio(JitterBuffer):
    """aiortc's receive buffer, for audio as the bridge needs it. aiortc's own holds every packet
    until the next one is in (a video frame is complete only when a packet of the next begins):
    20 ms on every line, at least. An Opus packet is a whole frame, so this one hands each packet
    on as it arrives, in order; one older than the newest handed on (late, or a duplicate) is
    dropped, and counted by `on_overtaken`. The engine's FrameQueue is the bridge's jitter buffer."""

    def __init__(self, on_overtaken: Callable[[], None]) -> None:
        super().__init__(capacity=16)
        self._next: int | None = None
        self.on_overtaken = on_overtaken

    def add(self, packet) -> tuple[bool, JitterFrame | None]:
        if self._next is not None and uint16_add(packet.sequence_number, -self._next) >= 0x8000:
            self.on_overtaken()
            return False, None
        self._next = uint16_add(packet.sequence_number, 1)
        return False, JitterFrame(data=packet._data, timestamp=packet.timestamp)


class InlineDecoding:
    """Stands in for an audio receiver's decoder queue, so each Opus packet is decoded where it
    arrives, on the loop, and goes straight into the peer's jitter buffer. aiortc would hand it to
    a decoder thread of the receiver's and back to the loop again (two thread switches a packet,
    a peer, 50 times a second). That thread is still started, and waits here until the receiver
    stops it (`put(None)`)."""

    def __init__(self, peer: PeerAudio) -> None:
        self.peer = peer
        # FFmpeg's own Opus decoder, not libopus as aiortc's: it gives planar float stereo at
        # 48 kHz, the engine's frame as it is (libopus's s16 needed converting), and took a quarter
        # of libopus's time a packet here (21 µs against 84).
        self.decoder = av.CodecContext.create("opus", "r")
        self.decoder.layout = "stereo"
        self.decoder.sample_rate = SAMPLE_RATE
        self.inbound = InboundAudio()
        self.timeline = RtpTimeline(SAMPLE_RATE)  # Opus's RTP clock is 48 kHz whatever it carries
        self._stopped: queue.SimpleQueue[None] = queue.SimpleQueue()

    def put(self, task: tuple | None) -> None:
        if task is None:
            self._stopped.put(None)
            return
        _, encoded = task
        # The packet's media time, from which the jitter buffer measures how late it came.
        media_time = self.timeline.seconds(encoded.timestamp)
        try:
            frames = self.decoder.decode(av.Packet(encoded.data))
        except av.FFmpegError as error:  # one bad packet; the next decodes (the decoder keeps its state)
            log.warning("peer %s: a packet did not decode: %s", self.peer.peer_id, error)
            return
        # A packet of other than one tick is cut into ticks, each a tick after the one before.
        pieces = [samples for frame in frames for samples in self.inbound.frames(frame)]
        for index, samples in enumerate(pieces):
            self.peer.inbound.push(samples, media_time + index * TICK_SECONDS)

    def get(self) -> None:
        """The idle decoder thread's wait."""
        return self._stopped.get()


def receive_audio_for(receiver, peer: PeerAudio) -> None:
    """Make an audio receiver hand each packet on as it comes (InOrderAudio) and decode it on the
    loop into `peer` (InlineDecoding), before any packet came. aiortc has no option for either:
    its receiver keeps both in private attributes."""
    receiver._RTCRtpReceiver__jitter_buffer = InOrderAudio(peer.inbound.count_overtaken)
    receiver._RTCRtpReceiver__decoder_queue = InlineDecoding(peer)


class RtcBridge:
    """The mixer's WebRTC peers, on a loop of their own. `on_peer(peer_id, PeerAudio | None)` is
    called (from the bridge's thread) when a peer is connected or replaced, and with None when
    its connection failed or closed."""

    def __init__(self, config: RtcConfig, on_peer: Callable[[str, PeerAudio | None], None]) -> None:
        self.config = config
        self.on_peer = on_peer
        self.loop = RtcLoop(config.host_addresses, config.port_range, config.networks)
        self.outbox = Outbox(self.loop)
        self._connections: dict[str, _Connection] = {}
        self._thread = threading.Thread(target=self._run, name="rtc-bridge", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        # Returns leave from this loop: it keeps the mix's time only if it wakes when a packet is due.
        raise_priority(self.config.realtime_priority)
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def offer(self, peer_id: str, kind: str, sdp: str) -> Future:
        """Answer a peer's offer (from any thread): a Future of the answer's SDP, or of the
        exception that refused it (ValueError: a bad offer)."""
        return asyncio.run_coroutine_threadsafe(self._offer(peer_id, kind, sdp), self.loop)

    def answer(self, peer_id: str, kind: str, sdp: str, timeout: float = OFFER_TIMEOUT_SECONDS) -> str:
        """`offer`, waited for."""
        return self.offer(peer_id, kind, sdp).result(timeout)

    def peers(self) -> dict[str, PeerAudio]:
        return {peer_id: connection.peer for peer_id, connection in list(self._connections.items())}

    def close(self, timeout: float = 10.0) -> None:
        """Close every connection and stop the loop's thread."""
        if self.loop.is_closed():
            return
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(self._close_all(), self.loop).result(timeout)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout)
        if not self._thread.is_alive():
            self.loop.close()

    # On the bridge's loop from here on.

    async def _offer(self, peer_id: str, kind: str, sdp: str) -> str:
        if "m=audio" not in sdp:
            raise ValueError("The offer has no audio.")
        previous = self._connections.pop(peer_id, None)
        peer = previous.peer if previous is not None and previous.peer.kind == kind else PeerAudio(peer_id, kind)
        if previous is not None:
            peer.listener = None
            await self._close(previous)
        pc = RTCPeerConnection(self.config.rtc_configuration())
        track = ReturnTrack(self.outbox, "mono" if kind == PRESENTER_PEER else "stereo")
        connection = _Connection(pc, peer, track)
        self._connections[peer_id] = connection

        @pc.on("connectionstatechange")
        async def on_state() -> None:
            peer.stats = peer.stats | {"state": pc.connectionState}
            if pc.connectionState in ("failed", "closed"):
                await self._drop(peer_id, connection)

        try:
            remote = filter_candidates(sdp, self.config.networks)
            await pc.setRemoteDescription(RTCSessionDescription(sdp=remote, type="offer"))
            for transceiver in pc.getTransceivers():
                if transceiver.kind == "audio":
                    receive_audio_for(transceiver.receiver, peer)
            sender = pc.addTrack(track)
            await pc.setLocalDescription(await pc.createAnswer())
            track.sending = direct_send(pc, sender)
        except Exception as error:
            await self._drop(peer_id, connection)
            log.warning("offer of %s refused: %r", peer_id, error)
            raise ValueError(f"The offer could not be answered: {error}") from None
        peer.listener = track.offer
        peer.after_returns = self.outbox.flush
        peer.stats = {"state": pc.connectionState, "rtt_ms": None, "jitter_ms": None, "loss_pct": None}
        connection.tasks.append(asyncio.ensure_future(self._watch(peer_id, connection)))
        self.on_peer(peer_id, peer)
        return pc.localDescription.sdp

    async def _watch(self, peer_id: str, connection: _Connection) -> None:
        """Statistics once a second; a connection that never connects is given up."""
        pc, elapsed = connection.pc, 0.0
        while self._connections.get(peer_id) is connection:
            await asyncio.sleep(STATS_SECONDS)
            elapsed += STATS_SECONDS
            if pc.connectionState != "connected":
                if elapsed >= CONNECT_TIMEOUT_SECONDS:
                    log.warning("peer %s did not connect in %s s; closed", peer_id, CONNECT_TIMEOUT_SECONDS)
                    await self._drop(peer_id, connection)
                    return
                continue
            try:
                connection.peer.stats = link_stats(await pc.getStats(), pc.connectionState)
            except Exception:
                log.exception("statistics of %s failed", peer_id)

    async def _drop(self, peer_id: str, connection: _Connection) -> None:
        """Close a connection; if it is still the peer's current one, the peer is gone."""
        current = self._connections.get(peer_id) is connection
        if current:
            del self._connections[peer_id]
            connection.peer.listener = None
        await self._close(connection)
        if current:
            self.on_peer(peer_id, None)

    async def _close(self, connection: _Connection) -> None:
        for task in connection.tasks:
            if task is not asyncio.current_task():
                task.cancel()
        connection.track.stop()
        await connection.pc.close()

    async def _close_all(self) -> None:
        for peer_id, connection in list(self._connections.items()):
            await self._drop(peer_id, connection)
