"""bench_bridge's other presenters: lightweight WebRTC peers in a process of their own.

On the day every presenter speaks from their own computer; on the benchmark's 2-core box, six
more Chromium pages in the listener's browser would measure that browser's starvation more than
the bridge. So the presenters other than A and B are aiortc peers here, each doing to the mixer
what a green room does: its green-room socket, checked in, an `rtc_offer` with a fresh session,
the mixer's answer, then 20 ms Opus packets of a speech-like voice of its own (a quiet harmonic
voice in syllables and pauses), paced on the clock as a microphone is, and the return the mixer
sends back received and counted. Their audio is encoded once, before the run, and they do not
decode what they hear: both would be the presenters' computers' work, not the mixer's, and here
they would take CPU from it.

Loopback only: each peer's loop offers 127.0.0.1 alone and gets no ICE server.

Run as `python -m streaming.bench.bridge_peers <server url> <event id> <presenter pk>:<stage id>:<key> …`;
it prints `connected <n>` once every call is up, then, when its standard input closes, one JSON
line: the return packets each peer received.
"""

from __future__ import annotations

import asyncio
import fractions
import json
import sys
import threading
import time
import uuid

import av
import numpy as np
from aiortc import MediaStreamTrack, RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError
from websockets.asyncio.client import connect

from streaming.core import FRAME_SAMPLES, SAMPLE_RATE
from streaming.core.rtc import InOrderAudio, RtcLoop

TIME_BASE = fractions.Fraction(1, SAMPLE_RATE)
VOICE_SECONDS = 4
# Quiet enough that six of them together stay far below the listener's click threshold (0.2):
# the others are backstage, and B hears backstage.
VOICE_PEAK = 0.02
CONNECT_SECONDS = 60.0


def speech_like(seed: int, seconds: int = VOICE_SECONDS) -> np.ndarray:
    """A mono voice-like signal: harmonics of a gliding pitch, in syllables of 120-300 ms with
    pauses between some of them (about four a second, as speech)."""
    rng = np.random.default_rng(seed)
    total = seconds * SAMPLE_RATE
    envelope = np.zeros(total, dtype=np.float32)
    at = 0
    while at < total:
        length = int(rng.uniform(0.12, 0.3) * SAMPLE_RATE)
        span = min(length, total - at)
        envelope[at : at + span] = np.hanning(length)[:span]
        at += length + int(rng.choice([0.03, 0.05, 0.4]) * SAMPLE_RATE)
    t = np.arange(total) / SAMPLE_RATE
    pitch = rng.uniform(100, 220) * (1 + 0.1 * np.sin(2 * np.pi * 0.7 * t))
    phase = 2 * np.pi * np.cumsum(pitch) / SAMPLE_RATE
    voice = sum(np.sin(k * phase) / k for k in range(1, 8))
    return (VOICE_PEAK * envelope * voice / np.abs(voice).max()).astype(np.float32)


def opus_packets(samples: np.ndarray) -> list[bytes]:
    """`samples` as 20 ms Opus packets (mono, as a browser's microphone)."""
    codec = av.CodecContext.create("libopus", "w")
    codec.bit_rate, codec.format, codec.layout, codec.sample_rate = 32000, "s16", "mono", SAMPLE_RATE
    codec.time_base = TIME_BASE
    pcm = (samples * 32767).astype(np.int16)
    packets = []
    for start in range(0, len(pcm) - FRAME_SAMPLES + 1, FRAME_SAMPLES):
        frame = av.AudioFrame.from_ndarray(pcm[None, start : start + FRAME_SAMPLES], format="s16", layout="mono")
        frame.sample_rate, frame.pts, frame.time_base = SAMPLE_RATE, start, TIME_BASE
        packets += [bytes(packet) for packet in codec.encode(frame)]
    return packets


class VoiceTrack(MediaStreamTrack):
    """Pre-encoded packets in a loop, each when its 20 ms are due: aiortc's sender only packs them."""

    kind = "audio"

    def __init__(self, packets: list[bytes]) -> None:
        super().__init__()
        self.packets = packets
        self.sent = 0
        self.started: float | None = None

    async def recv(self) -> av.Packet:
        if self.readyState != "live":
            raise MediaStreamError
        if self.started is None:
            self.started = time.monotonic()
        delay = self.started + self.sent * FRAME_SAMPLES / SAMPLE_RATE - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        packet = av.Packet(self.packets[self.sent % len(self.packets)])
        packet.pts, packet.time_base = self.sent * FRAME_SAMPLES, TIME_BASE
        self.sent += 1
        return packet


class Counted:
    """Stands in for the receiver's decoder queue: counts the return's packets, decodes nothing."""

    def __init__(self) -> None:
        self.packets = 0
        self._done = threading.Event()

    def put(self, task) -> None:
        if task is None:
            self._done.set()
        else:
            self.packets += 1

    def get(self) -> None:
        self._done.wait()


async def versioned(socket, type_: str, **fields) -> None:
    """A stage command on a green-room socket, sent again while the version it names is stale."""
    version = 0
    while True:
        message = json.loads(await asyncio.wait_for(socket.recv(), 15))
        if message["type"] in ("snapshot", "delta"):
            version = max(version, message["version"])
            break
    for _ in range(10):
        client_id = uuid.uuid4().hex
        await socket.send(json.dumps({"type": type_, "version": version, "client_id": client_id} | fields))
        while True:
            reply = json.loads(await asyncio.wait_for(socket.recv(), 15))
            if reply["type"] in ("snapshot", "delta"):
                version = max(version, reply["version"])
            if reply.get("client_id") == client_id:
                break
        if reply["type"] == "ack":
            return
        if reply["error"]["code"] != "stale_version":
            raise RuntimeError(f"{type_} refused: {reply['error']['message']}")
        version = reply["version"]
    raise RuntimeError(f"{type_} stayed stale")


class Peer:
    """One presenter's green room and call to the mixer."""

    def __init__(self, url: str, event_id: int, presenter: str, seed: int) -> None:
        pk, self.line_id, key = presenter.split(":", 2)
        self.socket_url = f"{url.replace('http', 'ws', 1)}/ws/events/{event_id}/greenroom/{pk}/{key}/"
        self.origin = url
        self.packets = opus_packets(speech_like(seed))
        self.pc: RTCPeerConnection | None = None
        self.heard = Counted()
        self.socket = None
        self.draining: asyncio.Future | None = None

    async def call(self) -> None:
        self.socket = await connect(self.socket_url, additional_headers={"Origin": self.origin}, max_queue=None)
        await versioned(self.socket, "set_check_in", presenter=self.line_id, checked_in=True)
        # Explicitly no ICE server: aiortc's default is Google's public STUN server.
        self.pc = pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        pc.addTrack(VoiceTrack(self.packets))
        receiver = pc.getTransceivers()[0].receiver
        receiver._RTCRtpReceiver__jitter_buffer = InOrderAudio(on_overtaken=lambda: None)
        receiver._RTCRtpReceiver__decoder_queue = self.heard
        await pc.setLocalDescription(await pc.createOffer())  # aiortc gathers before it returns
        session = uuid.uuid4().hex
        await self.socket.send(json.dumps({"type": "rtc_offer", "session": session, "sdp": pc.localDescription.sdp}))
        while True:
            message = json.loads(await asyncio.wait_for(self.socket.recv(), 30))
            if message.get("session") != session:
                continue
            if message["type"] != "rtc_answer":
                raise RuntimeError(f"the mixer refused a call: {message}")
            break
        await pc.setRemoteDescription(RTCSessionDescription(sdp=message["sdp"], type="answer"))
        deadline = time.monotonic() + CONNECT_SECONDS
        while pc.connectionState != "connected":
            if time.monotonic() > deadline or pc.connectionState == "failed":
                raise RuntimeError(f"a call did not connect ({pc.connectionState})")
            await asyncio.sleep(0.1)
        # The socket must keep being read (the stage's deltas), or the server would drop it.
        self.draining = asyncio.ensure_future(self._drain())

    async def _drain(self) -> None:
        async for _ in self.socket:
            pass

    async def close(self) -> None:
        if self.pc is not None:
            await self.pc.close()
        if self.socket is not None:
            await self.socket.close()


async def main(url: str, event_id: int, presenters: list[str]) -> None:
    peers = [Peer(url, event_id, presenter, seed) for seed, presenter in enumerate(presenters)]
    await asyncio.gather(*(peer.call() for peer in peers))
    print(f"connected {len(peers)}", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    print(json.dumps({"returns_received": [peer.heard.packets for peer in peers]}), flush=True)
    await asyncio.gather(*(peer.close() for peer in peers))


if __name__ == "__main__":
    loop = RtcLoop(host_addresses=["127.0.0.1"])
    asyncio.set_event_loop(loop)
    loop.run_until_complete(main(sys.argv[1], int(sys.argv[2]), sys.argv[3:]))
