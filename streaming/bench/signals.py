"""Known signals as files, for benchmarks and tests: what a fake microphone or a file line plays."""

from pathlib import Path

import av
import numpy as np

from streaming.core import SAMPLE_RATE


def write_wav(path: Path, samples: np.ndarray) -> None:
    """Mono float samples (-1..1) at 48 kHz as a 16-bit WAV file."""
    pcm = (np.asarray(samples) * 32767).astype(np.int16)[None, :]
    with av.open(str(path), "w") as container:
        stream = container.add_stream("pcm_s16le", rate=SAMPLE_RATE, layout="mono")
        frame = av.AudioFrame.from_ndarray(pcm, format="s16", layout="mono")
        frame.sample_rate = SAMPLE_RATE
        container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
