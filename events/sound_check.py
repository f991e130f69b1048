"""Makes the webcast page's "test your audio" sample: a two-second rising chime, AAC in .m4a.

The file is committed (events/static/events/sound-check.m4a); run this only to change it:
    .venv/bin/python -m events.sound_check
AAC in MP4 is the one format every browser that plays the webcast (which is AAC too) decodes.
"""

from fractions import Fraction
from pathlib import Path

import av
import numpy as np

SAMPLE_RATE = 48000
NOTES_HZ = (523.25, 659.25, 783.99)  # C5, E5, G5: rising, so "did you hear it" has an answer
NOTE_SECONDS = 0.35
RING_SECONDS = 1.0
PATH = Path(__file__).parent / "static" / "events" / "sound-check.m4a"


def chime() -> np.ndarray:
    """The chime as (2, samples) float32: three plucked notes, then the chord ringing out."""
    note = np.arange(int(NOTE_SECONDS * SAMPLE_RATE)) / SAMPLE_RATE
    ring = np.arange(int(RING_SECONDS * SAMPLE_RATE)) / SAMPLE_RATE
    parts = [np.sin(2 * np.pi * hz * note) * np.exp(-note * 6) for hz in NOTES_HZ]
    parts.append(sum(np.sin(2 * np.pi * hz * ring) for hz in NOTES_HZ) / 3 * np.exp(-ring * 3))
    mono = 0.3 * np.concatenate(parts)
    fade = min(480, mono.size)  # 10 ms in and out: no click at either end
    mono[:fade] *= np.linspace(0, 1, fade)
    mono[-fade:] *= np.linspace(1, 0, fade)
    return np.stack([mono, mono]).astype(np.float32)


def write(path: Path = PATH) -> None:
    samples = chime()
    with av.open(str(path), "w", format="mp4") as container:
        stream = container.add_stream("aac", rate=SAMPLE_RATE, layout="stereo")
        stream.bit_rate = 96000
        for start in range(0, samples.shape[1], 1024):
            frame = av.AudioFrame.from_ndarray(
                np.ascontiguousarray(samples[:, start : start + 1024]), format="fltp", layout="stereo"
            )
            frame.sample_rate = SAMPLE_RATE
            frame.time_base = Fraction(1, SAMPLE_RATE)
            frame.pts = start
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)


if __name__ == "__main__":
    write()
