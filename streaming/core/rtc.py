"""The mixer's WebRTC adapter: presenters' and producers' browsers connect to the mixer with aiortc.

One `RtcBridge` per mixer process owns one asyncio loop in a daemon thread. Each offer (from a
green room or a console, relayed by the server) gets an RTCPeerConnection there: the peer's voice
is decoded, resampled to the engine's frames and pushed to its `PeerAudio.inbound`; what the
engine returns to the peer (`PeerAudio.listener`, called by the mix thread) is sent back as
Opus. A new offer for the same peer replaces its connection, so a reload or a network change
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
from aiortc.jitterbuffer import JitterBuffer
from aiortc.mediastreams import MediaStreamError

from . import FRAME_SAMPLES, SAMPLE_RATE
from .peers import PeerAudio

log = logging.getLogger(__name__)

STATS_SECONDS = 1.0
# A connection that has not connected by then is given up (its candidates may all have been
# filtered away, and aioice waits for more until it is told there are none).
CONNECT_TIMEOUT_SECONDS = 30.0
# Return frames waiting for the encoder. Frames come and go at the mix's pace, so a queue that a
# slow moment of this loop filled would stay full, every frame late by all of it: beyond this
# the oldest go (the browser's jitter buffer conceals the skip and absorbs the jitter).
MAX_QUEUED_RETURN_FRAMES = 2
OFFER_TIMEOUT_SECONDS = 20.0

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class RtcConfig:
    """Where the bridge's packets may go. Empty means aioice's own choice for addresses, no
    filter for candidates, any port; ice_servers is always used as given (empty: none)."""

    ice_servers: Sequence[dict] = ()
    host_addresses: Sequence[str] = ()
    candidate_networks: Sequence[str] = ()
    port_range: tuple[int, int] | None = None
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

    def datagram_received(data: bytes, address: tuple) -> None:
        if address_allowed(address[0], networks):
            receive(data, address)

    protocol.datagram_received = datagram_received


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
    """Decoded frames of any format → (2, 960) float32 frames at 48 kHz."""

    def __init__(self) -> None:
        self.resampler = av.AudioResampler(format="fltp", layout="stereo", rate=SAMPLE_RATE)
        self.fifo = av.AudioFifo()

    def frames(self, frame: av.AudioFrame) -> list[np.ndarray]:
        for resampled in self.resampler.resample(frame):
            resampled.pts = None  # the fifo checks continuity; the peer's timestamps may jump
            self.fifo.write(resampled)
        out = []
        while self.fifo.samples >= FRAME_SAMPLES:
            out.append(self.fifo.read(FRAME_SAMPLES).to_ndarray().astype(np.float32, copy=False))
        return out


class ReturnTrack(MediaStreamTrack):
    """What the peer hears: the engine's return frames, handed over from the mix thread."""

    kind = "audio"

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self.loop = loop
        self.queue: asyncio.Queue[np.ndarray] = asyncio.Queue()
        self.samples = 0
        self.dropped = 0

    def offer(self, frame: np.ndarray) -> None:
        """From any thread; never blocks."""
        with contextlib.suppress(RuntimeError):  # the loop closed: the bridge is going down
            self.loop.call_soon_threadsafe(self._put, frame)

    def _put(self, frame: np.ndarray) -> None:
        if self.queue.qsize() >= MAX_QUEUED_RETURN_FRAMES:
            skipped = self.queue.get_nowait()
            self.dropped += 1
            # The timestamps keep the mix's time: a skipped frame is a gap the browser conceals.
            # Counted on from the frames sent instead, every skip would look like the network
            # delaying the stream by 20 ms more, and the browser's buffer would grow to match.
            self.samples += skipped.shape[1]
        self.queue.put_nowait(frame)

    async def recv(self) -> av.AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        frame = await self.queue.get()
        audio = to_audio_frame(frame, self.samples)
        self.samples += frame.shape[1]
        return audio


def to_audio_frame(frame: np.ndarray, pts: int) -> av.AudioFrame:
    """A (2, n) float frame as interleaved s16 stereo, its pts counting samples at 48 kHz."""
    interleaved = (np.clip(frame.T, -1.0, 1.0) * 32767).astype(np.int16).reshape(1, -1)
    audio = av.AudioFrame.from_ndarray(interleaved, format="s16", layout="stereo")
    audio.sample_rate = SAMPLE_RATE
    audio.pts = pts
    audio.time_base = fractions.Fraction(1, SAMPLE_RATE)
    return audio


# --- The bridge ----------------------------------------------------------------------------------


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


# aiortc decodes an audio packet only once 4 more are in: 80 ms held on every line. The engine's
# FrameQueue is this bridge's jitter buffer, so aiortc's need only put packets back in order.
AUDIO_PREFETCH = 1


def shorten_jitter_buffer(receiver) -> None:
    """Give an audio receiver a jitter buffer of AUDIO_PREFETCH packets, before any packet came.
    aiortc has no option for it: its receiver keeps the buffer in a private attribute."""
    receiver._RTCRtpReceiver__jitter_buffer = JitterBuffer(capacity=16, prefetch=AUDIO_PREFETCH)


class RtcBridge:
    """The mixer's WebRTC peers, on a loop of their own. `on_peer(peer_id, PeerAudio | None)` is
    called (from the bridge's thread) when a peer is connected or replaced, and with None when
    its connection failed or closed."""

    def __init__(self, config: RtcConfig, on_peer: Callable[[str, PeerAudio | None], None]) -> None:
        self.config = config
        self.on_peer = on_peer
        self.loop = RtcLoop(config.host_addresses, config.port_range, config.networks)
        self._connections: dict[str, _Connection] = {}
        self._thread = threading.Thread(target=self._run, name="rtc-bridge", daemon=True)
        self._thread.start()

    def _run(self) -> None:
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
        track = ReturnTrack(self.loop)
        connection = _Connection(pc, peer, track)
        self._connections[peer_id] = connection

        @pc.on("track")
        def on_track(remote: MediaStreamTrack) -> None:
            if remote.kind == "audio":
                connection.tasks.append(asyncio.ensure_future(self._receive(remote, peer)))

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
                    shorten_jitter_buffer(transceiver.receiver)
            pc.addTrack(track)
            await pc.setLocalDescription(await pc.createAnswer())
        except Exception as error:
            await self._drop(peer_id, connection)
            log.warning("offer of %s refused: %r", peer_id, error)
            raise ValueError(f"The offer could not be answered: {error}") from None
        peer.listener = track.offer
        peer.stats = {"state": pc.connectionState, "rtt_ms": None, "jitter_ms": None, "loss_pct": None}
        connection.tasks.append(asyncio.ensure_future(self._watch(peer_id, connection)))
        self.on_peer(peer_id, peer)
        return pc.localDescription.sdp

    async def _receive(self, remote: MediaStreamTrack, peer: PeerAudio) -> None:
        inbound = InboundAudio()
        while True:
            try:
                frame = await remote.recv()
            except MediaStreamError:
                return
            for samples in inbound.frames(frame):
                peer.inbound.push(samples)

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
