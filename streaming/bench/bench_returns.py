"""The bridge's return encoder: libopus through ctypes (ours, streaming/core/opus.py via
`ReturnEncoder`) against PyAV's libopus encoder with the same settings (how the returns were
encoded before), CPU a tick.

Run `manage.py bench_returns [--json]`. Each side encodes a presenter's mono return (48 kb/s,
complexity 5, restricted low delay) of a speech-like signal, once a tick as the mix does: a
frame, then a 20 ms sleep, so each encode meets caches as cold as the mixer's do (back to back the
same encodes cost a half to a third as much). The sides alternate in rounds; each figure is the
thread's CPU time over the encodes of its rounds (`time.thread_time_ns`), the ratio ours / PyAV's.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable

import av
import numpy as np

from streaming.core import FRAME_SAMPLES, SAMPLE_RATE
from streaming.core.rtc import RETURN_BITRATE, RETURN_COMPLEXITY, TIME_BASE, ReturnEncoder

TICK_SECONDS = FRAME_SAMPLES / SAMPLE_RATE


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--ticks", type=int, default=150, help="Encodes a round a side (a tick each).")
    parser.add_argument("--rounds", type=int, default=4, help="Rounds, the sides alternating.")
    parser.add_argument("--json", action="store_true", help="Print one JSON object as the last line.")


class PyAvReturnEncoder:
    """The peer: PyAV's libopus encoder (its filter graph per frame, the GIL released around the
    encoding), the same mono mix-down into one reused frame."""

    def __init__(self) -> None:
        self.codec = av.CodecContext.create("libopus", "w")
        self.codec.bit_rate = RETURN_BITRATE["mono"]
        self.codec.format, self.codec.layout, self.codec.sample_rate = "flt", "mono", SAMPLE_RATE
        self.codec.time_base = TIME_BASE
        self.codec.options = {"application": "lowdelay", "compression_level": str(RETURN_COMPLEXITY)}
        self.frame = av.AudioFrame(format="flt", layout="mono", samples=FRAME_SAMPLES)
        self.frame.sample_rate, self.frame.time_base = SAMPLE_RATE, TIME_BASE
        self.samples = np.frombuffer(self.frame.planes[0], dtype=np.float32, count=FRAME_SAMPLES)

    def encode(self, frame: np.ndarray, pts: int) -> list[av.Packet]:
        np.add(frame[0], frame[1], out=self.samples)
        self.samples *= np.float32(0.5)
        self.frame.pts = pts
        return self.codec.encode(self.frame)


def speech_like(ticks: int) -> np.ndarray:
    """A voice's shape: a gliding pitch's harmonics in syllables, a little noise; (2, n) float32."""
    t = np.arange(ticks * FRAME_SAMPLES) / SAMPLE_RATE
    pitch = 140 + 40 * np.sin(2 * np.pi * 0.7 * t)
    phase = 2 * np.pi * np.cumsum(pitch) / SAMPLE_RATE
    voice = sum(np.sin(k * phase) / k for k in range(1, 6)) * np.clip(np.sin(2 * np.pi * 3 * t), 0, None)
    noise = np.random.default_rng(7).standard_normal(t.size) * 0.01
    mono = (0.2 * voice + noise).astype(np.float32)
    return np.stack([mono, mono])


def encode_round(encode: Callable[[np.ndarray, int], object], signal: np.ndarray, ticks: int) -> int:
    """CPU nanoseconds of `ticks` encodes, a tick apart."""
    spent = 0
    for tick in range(ticks):
        frame = signal[:, (tick % 50) * FRAME_SAMPLES : (tick % 50 + 1) * FRAME_SAMPLES]
        began = time.thread_time_ns()
        encode(frame, tick * FRAME_SAMPLES)
        spent += time.thread_time_ns() - began
        time.sleep(TICK_SECONDS)
    return spent


def run_with(options: dict, write: Callable[[str], object]) -> dict:
    if options["ticks"] < 1 or options["rounds"] < 1:
        raise ValueError("--ticks and --rounds must be at least 1")
    signal = speech_like(50)
    sides = {"ours": ReturnEncoder("mono").encode, "pyav": PyAvReturnEncoder().encode}
    for encode in sides.values():  # each encoder's first frames set it up: not counted
        encode_round(encode, signal, 5)
    spent = dict.fromkeys(sides, 0)
    for _ in range(options["rounds"]):
        for name, encode in sides.items():
            spent[name] += encode_round(encode, signal, options["ticks"])
    encodes = options["ticks"] * options["rounds"]
    per_tick = {name: round(total / encodes / 1000, 1) for name, total in spent.items()}
    results = {
        "ours_us_per_tick": per_tick["ours"],
        "pyav_us_per_tick": per_tick["pyav"],
        "ratio": round(per_tick["ours"] / per_tick["pyav"], 3),
    }
    write(
        f"bench_returns: a presenter's mono return (Opus 48 kb/s, complexity {RETURN_COMPLEXITY}), one encode a "
        f"20 ms tick, {encodes} a side in {options['rounds']} alternating rounds"
    )
    write(f"  ours (libopus through ctypes)  {per_tick['ours']:7.1f} µs of CPU a tick")
    write(f"  PyAV's libopus encoder         {per_tick['pyav']:7.1f} µs of CPU a tick")
    write(f"  ours / PyAV's: {results['ratio']}")
    if options["json"]:
        write(json.dumps(results))
    return results
