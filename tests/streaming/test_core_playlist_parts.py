"""Low-latency HLS from our playlist writer (RFC 8216bis): parts listed as they are published,
the tags that announce them, parts dropped from old segments, and a restart in the middle of one."""

import io
import json
from datetime import timedelta

import av
import pytest

from streaming.core.playlist import PlaylistWriter
from tests.streaming.test_core_playlist import T0, tag_values, uris
from tests.streaming.test_core_playlist_cards import card
from tests.supervision.playlists import date_range_problems, low_latency_problems, parse

FRAME = 1024 / 48000
PART = 14 * FRAME  # 0.29867 s
PARTS = [14] * 6 + [10]  # 94 frames: a segment of 2.00533 s
SEGMENT = 94 * FRAME


def writer(tmp_path, **options) -> PlaylistWriter:
    playlist = PlaylistWriter(tmp_path, part_target=PART, **options)
    playlist.begin_run()
    return playlist


def publish_parts(playlist: PlaylistWriter, index: int, parts: range, start=T0) -> None:
    """Parts of segment `index` (the last one, PARTS[-1], listed with the segment)."""
    for number in parts:
        pdt = start + timedelta(seconds=index * SEGMENT + sum(PARTS[:number]) * FRAME)
        data = f"{index}.{number}".encode()
        playlist.add_part(data, PARTS[number] * FRAME, pdt, last=number == len(PARTS) - 1)


def publish(playlist: PlaylistWriter, indexes: range, start=T0) -> None:
    for index in indexes:
        publish_parts(playlist, index, range(len(PARTS)), start)
        playlist.add_segment(f"segment {index}".encode(), SEGMENT, start + timedelta(seconds=index * SEGMENT))


def live(tmp_path) -> str:
    text = (tmp_path / "live.m3u8").read_text()
    assert low_latency_problems(text) == []
    assert date_range_problems(parse(text)) == []
    return text


def part_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("#EXT-X-PART:")]


def test_each_part_is_listed_as_soon_as_it_is_published_with_the_low_latency_tags(tmp_path):
    playlist = writer(tmp_path)
    publish_parts(playlist, 0, range(3))
    text = live(tmp_path)
    assert text.splitlines() == [
        "#EXTM3U",
        "#EXT-X-VERSION:3",
        "#EXT-X-TARGETDURATION:2",
        "#EXT-X-MEDIA-SEQUENCE:0",
        "#EXT-X-DISCONTINUITY-SEQUENCE:0",
        "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=0.89601",
        "#EXT-X-PART-INF:PART-TARGET=0.29867",
        "#EXT-X-PROGRAM-DATE-TIME:2025-05-01T12:00:00.000+00:00",
        '#EXT-X-PART:DURATION=0.29867,URI="part_000000_0.ts",INDEPENDENT=YES',
        '#EXT-X-PART:DURATION=0.29867,URI="part_000000_1.ts",INDEPENDENT=YES',
        '#EXT-X-PART:DURATION=0.29867,URI="part_000000_2.ts",INDEPENDENT=YES',
        '#EXT-X-PRELOAD-HINT:TYPE=PART,URI="part_000000_3.ts"',
    ]
    assert (tmp_path / "part_000000_2.ts").read_bytes() == b"0.2"
    publish_parts(playlist, 0, range(3, 6))
    before_last = live(tmp_path)
    # The segment's last part is listed with the segment: no playlist hints at a part that never comes.
    publish_parts(playlist, 0, range(6, 7))
    assert live(tmp_path) == before_last
    playlist.add_segment(b"segment 0", SEGMENT, T0)
    text = live(tmp_path)
    assert len(part_lines(text)) == 7
    assert text.splitlines()[-4:] == [
        '#EXT-X-PART:DURATION=0.21333,URI="part_000000_6.ts",INDEPENDENT=YES',
        "#EXTINF:2.00533,",
        "segment_000000.ts",
        '#EXT-X-PRELOAD-HINT:TYPE=PART,URI="part_000001_0.ts"',
    ]


def test_parts_of_old_segments_are_dropped_and_media_sequence_counts_whole_segments(tmp_path):
    playlist = writer(tmp_path, window=5, keep_all=False)
    publish(playlist, range(10))
    publish_parts(playlist, 10, range(2))
    text = live(tmp_path)
    assert tag_values(text, "#EXT-X-MEDIA-SEQUENCE") == ["5"]
    assert uris(text) == [f"segment_{i:06d}.ts" for i in range(5, 10)]
    # Parts within three target durations (6 s) of the end: segments 7 (ending 4.6 s before it), 8,
    # 9 and the open 10; not 6, ending 6.6 s before.
    listed = sorted({line.split('URI="part_')[1][:6] for line in part_lines(text)})
    assert listed == ["000007", "000008", "000009", "000010"]
    # Part files go a window after their segment left the playlist, as the segments' files do.
    assert sorted({path.name[5:11] for path in tmp_path.glob("part_*.ts")}) == [f"{i:06d}" for i in range(0, 11)]
    publish(playlist, range(10, 13))
    assert sorted({path.name[5:11] for path in tmp_path.glob("part_*.ts")}) == [f"{i:06d}" for i in range(2, 13)]
    assert sorted(path.name for path in tmp_path.glob("segment_*.ts"))[0] == "segment_000002.ts"
    assert vod_is_plain(tmp_path) is None


def vod_is_plain(tmp_path):
    vod = tmp_path / "vod.m3u8"
    if vod.exists():
        text = vod.read_text()
        assert "PART" not in text and "SERVER-CONTROL" not in text and "PRELOAD-HINT" not in text


def test_the_replay_playlist_stays_plain(tmp_path):
    playlist = writer(tmp_path)
    publish(playlist, range(3))
    publish_parts(playlist, 3, range(2))
    vod_is_plain(tmp_path)
    assert uris((tmp_path / "vod.m3u8").read_text()) == [f"segment_{i:06d}.ts" for i in range(3)]


def test_a_restart_makes_the_parts_left_of_a_segment_that_segment_then_goes_on_after_a_discontinuity(tmp_path):
    first = writer(tmp_path, window=3)
    publish(first, range(2))
    publish_parts(first, 2, range(3))  # killed here: parts 0 to 2 of segment 2 were listed

    restarted = writer(tmp_path, window=3)  # begin_run: segment 2 from its three parts
    text = live(tmp_path)
    assert uris(text)[-1] == "segment_000002.ts"
    assert tag_values(text, "#EXTINF")[-1] == f"{3 * PART:.5f},"
    assert (tmp_path / "segment_000002.ts").read_bytes() == b"2.02.12.2"
    assert text.splitlines()[-1] == '#EXT-X-PRELOAD-HINT:TYPE=PART,URI="part_000003_0.ts"'
    later = T0 + timedelta(seconds=60)
    publish_parts(restarted, 3, range(2), start=later - timedelta(seconds=3 * SEGMENT))
    text = live(tmp_path)
    lines = text.splitlines()
    # The new run's first segment follows a discontinuity, from its first part on.
    assert lines[lines.index('#EXT-X-PART:DURATION=0.29867,URI="part_000003_0.ts",INDEPENDENT=YES') - 2:][:2] == [
        "#EXT-X-DISCONTINUITY",
        "#EXT-X-PROGRAM-DATE-TIME:2025-05-01T12:01:00.000+00:00",
    ]
    pdts = [entry.pdt for entry in parse(text).entries] + [parse(text).open.pdt]
    assert pdts == sorted(pdts)
    assert json.loads((tmp_path / "playlist_state.json").read_text())["next_segment_index"] == 3


def test_a_run_killed_within_its_first_segment_leaves_that_segment_after_its_discontinuity(tmp_path):
    first = writer(tmp_path, window=4)
    publish(first, range(2))
    second = writer(tmp_path, window=4)  # restarted: its first segment follows a discontinuity
    later = T0 + timedelta(seconds=30)
    publish_parts(second, 2, range(2), start=later - timedelta(seconds=2 * SEGMENT))
    listed = live(tmp_path).splitlines()
    assert listed[listed.index("segment_000001.ts") + 1] == "#EXT-X-DISCONTINUITY"
    writer(tmp_path, window=4)  # killed before segment 2 was whole; the third run makes it of its parts
    playlist = parse(live(tmp_path))
    assert [(entry.uri, entry.discontinuity) for entry in playlist.entries[-2:]] == [
        ("segment_000001.ts", False),
        ("segment_000002.ts", True),
    ]
    assert playlist.entries[-1].pdt.isoformat() == "2025-05-01T12:00:30+00:00"


def test_parts_made_by_the_encoder_join_into_a_segment_the_replay_can_read(tmp_path):
    import numpy as np

    from streaming.core.encoder import AacSegmenter, Part
    from streaming.core.recording import rebuild_recording

    segmenter = AacSegmenter(frames_per_segment=94, frames_per_part=14)
    tone = np.tile(np.sin(np.arange(48000) / 7).astype(np.float32) * 0.3, (2, 1))
    parts = [piece for piece in segmenter.push(tone) if isinstance(piece, Part)][:3]
    playlist = writer(tmp_path)
    for part in parts:
        playlist.add_part(part.data, part.duration, T0)
    writer(tmp_path).end()  # a mixer died as the show ended: the next finishes it
    assert uris((tmp_path / "vod.m3u8").read_text()) == ["segment_000000.ts"]
    rebuild_recording([(tmp_path / "segment_000000.ts", 3 * PART)], tmp_path / "program.aac")
    with av.open(io.BytesIO((tmp_path / "program.aac").read_bytes()), format="aac") as container:
        assert sum(frame.samples for frame in container.decode(audio=0)) == 42 * 1024


def test_a_card_is_listed_with_the_part_that_carries_its_first_sample(tmp_path):
    playlist = writer(tmp_path)
    publish(playlist, range(1))
    playlist.add_card(card("Ada"), T0 + timedelta(seconds=SEGMENT + 0.5))  # in part 1 of segment 1
    publish_parts(playlist, 1, range(1))
    assert "EXT-X-DATERANGE" not in live(tmp_path)
    publish_parts(playlist, 1, range(1, 2))
    open_segment = live(tmp_path).splitlines()[-5:]
    assert open_segment[0].startswith('#EXT-X-DATERANGE:ID="stage-0"')
    assert open_segment[1].startswith("#EXT-X-PROGRAM-DATE-TIME:")
    publish_parts(playlist, 1, range(2, 7))
    playlist.add_segment(b"segment 1", SEGMENT, T0 + timedelta(seconds=SEGMENT))
    ranges = parse(live(tmp_path)).date_ranges
    assert [(r.attributes["ID"], r.before) for r in ranges] == [("stage-0", 1)]
    assert ranges[0].attributes["START-DATE"] == "2025-05-01T12:00:02.505+00:00"  # as it was listed


def test_a_fenced_part_is_not_written_and_a_part_longer_than_the_target_is_refused(tmp_path):
    playlist = writer(tmp_path)
    assert playlist.add_part(b"zombie", PART, T0, may_publish=lambda: False) is False
    assert list(tmp_path.glob("part_*")) == []
    with pytest.raises(ValueError, match="exceeds the part target"):
        playlist.add_part(b"long", PART + FRAME, T0)
    with pytest.raises(ValueError, match="no parts"):
        PlaylistWriter(tmp_path / "plain").add_part(b"x", PART, T0)
