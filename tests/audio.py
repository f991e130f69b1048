"""Listening to what the mixer produced: decode with PyAV, find tones with an FFT."""

import io
import re
from pathlib import Path

import av
import numpy as np

SAMPLE_RATE = 48000


def decoded_samples(path) -> int:
    """How many samples per channel a media file decodes to (every packet must decode)."""
    with av.open(str(path)) as container:
        return sum(frame.samples for frame in container.decode(audio=0))


def decode(data: bytes, format: str | None = None) -> np.ndarray:
    """Decode a media file's audio to mono float samples at 48 kHz (`format`: its demuxer, else
    FFmpeg's probe guesses)."""
    chunks = []
    with av.open(io.BytesIO(data), format=format) as container:
        resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
        for frame in container.decode(audio=0):
            for out in resampler.resample(frame):
                chunks.append(out.to_ndarray().reshape(-1))
    return np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.float32)


def decode_segment(path: Path) -> np.ndarray:
    """An HLS segment's audio. Opened as MPEG-TS by name: FFmpeg's probe takes a short one (the
    last of a show, under about 2 KB) for MPEG-PS, whose packets then fail to decode."""
    return decode(path.read_bytes(), "mpegts")


def tone_level(samples: np.ndarray, frequency: float) -> float:
    """Amplitude (0..1 of full scale) of a sine at `frequency`, Hann-windowed FFT."""
    if len(samples) < 1024:
        return 0.0
    window = np.hanning(len(samples))
    spectrum = np.abs(np.fft.rfft(samples * window)) * 2 / window.sum()
    bin_index = round(frequency * len(samples) / SAMPLE_RATE)
    return float(spectrum[max(0, bin_index - 2) : bin_index + 3].max())


def tones_present(samples: np.ndarray, frequencies: tuple[float, ...], threshold: float = 0.02) -> set[float]:
    return {f for f in frequencies if tone_level(samples, f) >= threshold}


def playlist_segments(text: str) -> list[str]:
    return [line for line in text.splitlines() if line and not line.startswith("#")]


def playlist_tags(text: str, tag: str) -> list[str]:
    return re.findall(rf"^#{tag}:?(.*)$", text, flags=re.MULTILINE)


def read_segments(directory: Path, playlist: str) -> list[bytes]:
    return [(directory / name).read_bytes() for name in playlist_segments(playlist)]


def webm_opus_tone(frequency: float, seconds: float, slice_bytes: int = 1500) -> list[bytes]:
    """A live WebM/Opus recording of a sine, cut into slices like a browser's MediaRecorder sends
    (the first slice holds the WebM header)."""
    out = io.BytesIO()
    with av.open(out, "w", format="webm", options={"live": "1"}) as container:
        stream = container.add_stream("libopus", rate=SAMPLE_RATE, layout="mono")
        sample = 0
        while sample < seconds * SAMPLE_RATE:
            t = np.arange(sample, sample + 960) / SAMPLE_RATE
            frame = av.AudioFrame.from_ndarray(
                (0.3 * np.sin(2 * np.pi * frequency * t)).astype(np.float32)[None, :], format="flt", layout="mono"
            )
            frame.sample_rate = SAMPLE_RATE
            sample += 960
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    data = out.getvalue()
    return [data[start : start + slice_bytes] for start in range(0, len(data), slice_bytes)]
