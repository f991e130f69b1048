"""The recording rebuilt from the published segments: exactly the AAC the encoder made, or untouched."""

import numpy as np
import pytest

from streaming.core.encoder import AacSegmenter
from streaming.core.playlist import segment_uri
from streaming.core.recording import rebuild_recording

SR = 48000


def tone(seconds: float) -> np.ndarray:
    wave = 0.3 * np.sin(2 * np.pi * 440 * np.arange(round(seconds * SR)) / SR)
    return np.stack([wave, wave]).astype(np.float32)


def publish(directory, segments) -> list:
    """Segment files as the playlist writer names them, with their playlist durations."""
    entries = []
    for index, segment in enumerate(segments):
        path = directory / segment_uri(index)
        path.write_bytes(segment.data)
        entries.append((path, segment.duration))
    return entries


def test_short_segments_give_back_the_encoders_own_adts(tmp_path):
    # 1 to 12 AAC frames a segment, a tone and digital silence. Those under about 2 KB (three tone
    # frames, two to five silent ones) are what FFmpeg's probe took for MPEG-PS, whose packets
    # carried TS headers into the recording.
    segments = []
    for frames in range(1, 13):
        for audio in (tone(0.3), np.zeros((2, round(0.3 * SR)), np.float32)):
            segmenter = AacSegmenter(frames_per_segment=frames)
            segments += [*segmenter.push(audio), *segmenter.finish()]
    assert {segment.samples // 1024 for segment in segments} == set(range(1, 13))
    rebuild_recording(publish(tmp_path, segments), tmp_path / "program.aac")
    assert (tmp_path / "program.aac").read_bytes() == b"".join(segment.adts for segment in segments)


def test_a_segment_that_is_not_what_its_playlist_entry_says_is_refused(tmp_path):
    segmenter = AacSegmenter(frames_per_segment=47)
    entries = publish(tmp_path, [*segmenter.push(tone(2.5)), *segmenter.finish()])
    path, duration = entries[1]
    (tmp_path / "program.aac").write_bytes(b"as recorded")
    with pytest.raises(ValueError, match=r"segment_000001\.ts"):
        rebuild_recording([entries[0], (path, duration + 1024 / SR)], tmp_path / "program.aac")  # a frame more
    assert (tmp_path / "program.aac").read_bytes() == b"as recorded"
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("segment_")) == ["program.aac"]
