"""The AAC segmenter and recorder: segments decode back gap-free, at the input's frequency."""

import io

import av
import numpy as np

from streaming.core.encoder import AacRecorder, AacSegmenter

SR = 48000


def tone(frequency: float, seconds: float, amplitude: float = 0.5) -> np.ndarray:
    t = np.arange(round(seconds * SR)) / SR
    return np.tile(amplitude * np.sin(2 * np.pi * frequency * t), (2, 1)).astype(np.float32)


def encode(signal: np.ndarray, segmenter: AacSegmenter) -> list:
    segments = []
    for start in range(0, signal.shape[1], 960):
        segments += segmenter.push(signal[:, start : start + 960])
    return segments


def decode(data: bytes, format: str) -> tuple[np.ndarray, list[int]]:
    """All samples as (2, N) and every decoded frame's pts in samples."""
    with av.open(io.BytesIO(data), format=format) as container:
        frames = list(container.decode(audio=0))
    pts = [round(frame.pts * frame.time_base * SR) for frame in frames]
    return np.concatenate([frame.to_ndarray() for frame in frames], axis=1), pts


def dominant_frequency(samples: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.fft.rfftfreq(len(samples), 1 / SR)[np.argmax(spectrum)])


def test_segments_are_whole_aac_frames_and_decode_gap_free_at_the_input_frequency():
    segmenter = AacSegmenter(frames_per_segment=94)
    segments = encode(tone(1000, 10.0), segmenter)
    last = segmenter.flush()
    assert [s.samples for s in segments] == [94 * 1024] * 4
    assert all(abs(s.duration - 2.0053333) < 1e-6 for s in segments)
    assert [s.start for s in segments] == [-1024 + i * 94 * 1024 for i in range(4)]
    # 480,000 samples + 1024 priming, rounded up to whole AAC frames
    assert sum(s.samples for s in segments) + last.samples == 470 * 1024

    samples, pts = decode(b"".join(s.data for s in [*segments, last]), "mpegts")
    assert samples.shape == (2, 470 * 1024)
    assert np.diff(pts).tolist() == [1024] * (len(pts) - 1)  # continuous across segments
    assert abs(dominant_frequency(samples[0, SR : 9 * SR]) - 1000) <= 1

    for segment in segments:  # each segment also plays on its own
        alone, _ = decode(segment.data, "mpegts")
        assert alone.shape == (2, 94 * 1024)


def test_cut_ends_a_segment_early_without_breaking_timestamps():
    segmenter = AacSegmenter()
    early = encode(tone(440, 0.5), segmenter)
    cut = segmenter.cut()
    later = encode(tone(440, 4.5), segmenter)
    rest = segmenter.finish()
    assert early == []
    assert cut.samples % 1024 == 0 and 0 < cut.samples < 94 * 1024
    parts = [cut, *later, *rest]
    assert [p.start for p in parts[1:]] == [p.start + p.samples for p in parts[:-1]]
    _, pts = decode(b"".join(p.data for p in parts), "mpegts")
    assert np.diff(pts).tolist() == [1024] * (len(pts) - 1)


def test_recorder_writes_the_program_as_one_playable_adts_file(tmp_path):
    segmenter = AacSegmenter()
    segments = [*encode(tone(600, 4.0), segmenter), *segmenter.finish()]
    recorder = AacRecorder(tmp_path / "program.aac")
    for segment in segments:
        recorder.write(segment)
    recorder.close()
    samples, _ = decode((tmp_path / "program.aac").read_bytes(), "aac")
    assert samples.shape[1] == sum(s.samples for s in segments)
    assert abs(dominant_frequency(samples[1, SR : 3 * SR]) - 600) <= 1
