"""A WebRTC peer for tests, as a browser would be one: aiortc on a loop of its own that offers
only 127.0.0.1 and no ICE server, plays a tone and records what it hears."""

from __future__ import annotations

import asyncio
import fractions
import threading
import time

import av
import numpy as np
from aiortc import MediaStreamTrack, RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError

from streaming.core import FRAME_SAMPLES, SAMPLE_RATE
from streaming.core.rtc import RtcLoop


class ToneTrack(MediaStreamTrack):
    """A sine at `frequency`, 20 ms frames paced on the clock like a microphone."""

    kind = "audio"

    def __init__(self, frequency: float, amplitude: float = 0.3) -> None:
        super().__init__()
        self.frequency, self.amplitude = frequency, amplitude
        self.samples = 0
        self.started: float | None = None

    async def recv(self) -> av.AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        if self.started is None:
            self.started = time.monotonic()
        # A microphone delivers a frame when its 20 ms have passed: this paces the sender.
        delay = self.started + self.samples / SAMPLE_RATE - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        t = (self.samples + np.arange(FRAME_SAMPLES)) / SAMPLE_RATE
        tone = (self.amplitude * np.sin(2 * np.pi * self.frequency * t) * 32767).astype(np.int16)
        frame = av.AudioFrame.from_ndarray(tone.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate, frame.pts = SAMPLE_RATE, self.samples
        frame.time_base = fractions.Fraction(1, SAMPLE_RATE)
        self.samples += FRAME_SAMPLES
        return frame


class RtcClient:
    """One peer connection on a loopback-only loop; `heard()` is what it received, mono."""

    def __init__(self, frequency: float) -> None:
        self.loop = RtcLoop(host_addresses=["127.0.0.1"])
        self.thread = threading.Thread(target=self.loop.run_forever, name="rtc-test-client", daemon=True)
        self.thread.start()
        self.frequency = frequency
        self.pc: RTCPeerConnection | None = None
        self.received: list[np.ndarray] = []
        self.lock = threading.Lock()
        self.tasks: list[asyncio.Task] = []

    def run(self, coroutine, timeout: float = 20):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def make_offer(self, *, hang_up: bool = True) -> str:
        """An offer on a new connection; the previous one is closed first unless not to
        `hang_up` (a network change: it simply goes quiet)."""
        return self.run(self._offer(hang_up))

    async def _offer(self, hang_up: bool) -> str:
        if self.pc is not None and hang_up:
            await self.pc.close()
        # Explicitly no ICE server: aiortc's default is Google's public STUN server.
        self.pc = pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        pc.addTrack(ToneTrack(self.frequency))

        @pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            self.tasks.append(asyncio.ensure_future(self._record(track)))

        await pc.setLocalDescription(await pc.createOffer())  # aiortc gathers before it returns
        return pc.localDescription.sdp

    async def _record(self, track: MediaStreamTrack) -> None:
        resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            for out in resampler.resample(frame):
                with self.lock:
                    self.received.append(out.to_ndarray().reshape(-1))

    def accept(self, answer: str) -> None:
        self.run(self.pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer")))

    @property
    def state(self) -> str:
        return self.pc.connectionState if self.pc is not None else "new"

    def heard(self, last_seconds: float = 1.0) -> np.ndarray:
        with self.lock:
            samples = np.concatenate(self.received) if self.received else np.zeros(0, np.float32)
        return samples[-int(last_seconds * SAMPLE_RATE) :]

    def close(self) -> None:
        if self.pc is not None:
            self.run(self.pc.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()
