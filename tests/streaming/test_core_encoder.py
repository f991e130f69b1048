"""The AAC segmenter and recorder: segments decode back gap-free, at the input's frequency."""

import io

import av
import numpy as np

from streaming.core.encoder import AacRecorder, AacSegmenter, Part, Segment, part_frames_for

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
    [cut] = segmenter.cut()
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


def test_parts_are_whole_frames_of_their_segment_published_as_encoded_then_the_segment():
    segmenter = AacSegmenter(frames_per_segment=94, frames_per_part=14)
    pieces = encode(tone(1000, 4.5), segmenter)
    kinds = ["S" if isinstance(piece, Segment) else piece.index for piece in pieces]
    assert kinds == [0, 1, 2, 3, 4, 5, 6, "S", 0, 1, 2, 3, 4, 5, 6, "S", 0]
    parts = [piece for piece in pieces if isinstance(piece, Part)]
    segments = [piece for piece in pieces if isinstance(piece, Segment)]
    # Every part but a segment's last is the part target; the parts add up to their segment.
    assert [part.samples // 1024 for part in parts] == [14] * 6 + [10] + [14] * 6 + [10] + [14]
    assert [part.last for part in parts] == ([False] * 6 + [True]) * 2 + [False]
    assert sum(part.samples for part in parts[:7]) == segments[0].samples
    assert [part.start for part in parts[1:]] == [part.start + part.samples for part in parts[:-1]]
    assert parts[0].start == segments[0].start and parts[7].start == segments[1].start
    # Each part decodes alone, and the parts one after another decode as the segments do.
    for part in parts:
        alone, _ = decode(part.data, "mpegts")
        assert alone.shape[1] == part.samples
    from_parts, pts = decode(b"".join(part.data for part in parts[:14]), "mpegts")
    from_segments, _ = decode(b"".join(segment.data for segment in segments), "mpegts")
    assert np.array_equal(from_parts, from_segments)
    assert np.diff(pts).tolist() == [1024] * (len(pts) - 1)


def test_a_cut_closes_the_open_part_and_segment_and_finish_the_rest():
    segmenter = AacSegmenter(frames_per_segment=94, frames_per_part=14)
    pieces = encode(tone(440, 0.5), segmenter)  # 23 frames: one part of 14 so far
    assert [piece.index for piece in pieces] == [0]
    cut = segmenter.cut()
    assert [type(piece).__name__ for piece in cut] == ["Part", "Segment"]
    assert cut[0].index == 1 and cut[0].last and cut[0].samples + pieces[0].samples == cut[1].samples
    assert segmenter.cut() == []
    pieces = encode(tone(440, 0.1), segmenter) + segmenter.finish()
    assert [type(piece).__name__ for piece in pieces] == ["Part", "Segment"]
    assert pieces[0].index == 0 and pieces[0].samples == pieces[1].samples


def test_part_frames_split_a_segment_as_evenly_as_whole_frames_allow():
    assert part_frames_for(94, 14) == 14  # 6 of 14 and a last of 10
    assert part_frames_for(96, 14) == 14  # 6 of 14, a last of 12
    assert part_frames_for(100, 14) == 15  # 6 of 15 and a last of 10, not 7 of 14 and one of 2
    assert part_frames_for(10, 14) == 10  # a short segment is one part
    assert part_frames_for(47, 14) == 16  # 16, 16 and 15
