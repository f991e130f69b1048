"""The live playlist writer: sequence numbers, discontinuities, program date-time, atomic files."""

import json
from datetime import UTC, datetime, timedelta

from streaming.core.playlist import PlaylistWriter

T0 = datetime(2025, 5, 1, 12, 0, 0, tzinfo=UTC)
DURATION = 94 * 1024 / 48000  # 2.00533 s


def add(writer: PlaylistWriter, count: int, start: datetime = T0, offset: int = 0) -> None:
    for i in range(count):
        pdt = start + timedelta(seconds=(offset + i) * DURATION)
        writer.add_segment(f"segment {offset + i}".encode(), DURATION, pdt)


def tag_values(text: str, tag: str) -> list[str]:
    return [line.split(":", 1)[1] for line in text.splitlines() if line.startswith(tag + ":")]


def uris(text: str) -> list[str]:
    return [line for line in text.splitlines() if line and not line.startswith("#")]


def test_window_slides_and_media_sequence_rises(tmp_path):
    writer = PlaylistWriter(tmp_path, window=6)
    writer.begin_run()
    add(writer, 10)
    text = (tmp_path / "live.m3u8").read_text()
    assert tag_values(text, "#EXT-X-MEDIA-SEQUENCE") == ["4"]
    assert tag_values(text, "#EXT-X-DISCONTINUITY-SEQUENCE") == ["0"]
    assert tag_values(text, "#EXT-X-TARGETDURATION") == ["2"]
    assert uris(text) == [f"segment_{i:06d}.ts" for i in range(4, 10)]
    assert tag_values(text, "#EXTINF") == ["2.00533,"] * 6
    assert "#EXT-X-DISCONTINUITY\n" not in text  # a fresh stream has no discontinuity
    assert "#EXT-X-ENDLIST" not in text


def test_restart_continues_with_discontinuity_then_discontinuity_sequence(tmp_path):
    first = PlaylistWriter(tmp_path, window=3)
    first.begin_run()
    add(first, 4)

    second = PlaylistWriter(tmp_path, window=3)  # a restarted mixer on the same directory
    second.begin_run()
    add(second, 1, start=T0 + timedelta(seconds=30))
    text = (tmp_path / "live.m3u8").read_text()
    assert tag_values(text, "#EXT-X-MEDIA-SEQUENCE") == ["2"]
    assert tag_values(text, "#EXT-X-DISCONTINUITY-SEQUENCE") == ["0"]
    assert uris(text) == ["segment_000002.ts", "segment_000003.ts", "segment_000004.ts"]
    lines = text.splitlines()
    assert lines[lines.index("segment_000004.ts") - 3] == "#EXT-X-DISCONTINUITY"

    add(second, 2, start=T0 + timedelta(seconds=30), offset=1)
    text = (tmp_path / "live.m3u8").read_text()
    assert uris(text) == ["segment_000004.ts", "segment_000005.ts", "segment_000006.ts"]
    assert tag_values(text, "#EXT-X-MEDIA-SEQUENCE") == ["4"]
    assert tag_values(text, "#EXT-X-DISCONTINUITY-SEQUENCE") == ["1"]
    assert "#EXT-X-DISCONTINUITY\n" not in text

    add(second, 1, start=T0 + timedelta(seconds=30), offset=3)
    text = (tmp_path / "live.m3u8").read_text()
    assert tag_values(text, "#EXT-X-MEDIA-SEQUENCE") == ["5"]
    assert tag_values(text, "#EXT-X-DISCONTINUITY-SEQUENCE") == ["1"]
    state = json.loads((tmp_path / "playlist_state.json").read_text())
    assert state["media_sequence"] == 5
    assert state["next_segment_index"] == 8


def test_program_date_time_never_goes_backwards(tmp_path):
    writer = PlaylistWriter(tmp_path)
    writer.begin_run()
    writer.add_segment(b"a", DURATION, T0)
    writer.add_segment(b"b", DURATION, T0 - timedelta(seconds=60))  # a clock that jumped back
    restarted = PlaylistWriter(tmp_path)
    restarted.begin_run()
    restarted.add_segment(b"c", DURATION, T0)
    text = (tmp_path / "live.m3u8").read_text()
    assert tag_values(text, "#EXT-X-PROGRAM-DATE-TIME") == [
        "2025-05-01T12:00:00.000+00:00",
        "2025-05-01T12:00:02.005+00:00",
        "2025-05-01T12:00:04.010+00:00",
    ]


def test_end_writes_endlist_and_a_vod_list_of_every_segment(tmp_path):
    writer = PlaylistWriter(tmp_path, window=2)
    writer.begin_run()
    add(writer, 5)
    vod = (tmp_path / "vod.m3u8").read_text()
    assert tag_values(vod, "#EXT-X-PLAYLIST-TYPE") == ["EVENT"]
    writer.end()
    live = (tmp_path / "live.m3u8").read_text()
    vod = (tmp_path / "vod.m3u8").read_text()
    assert live.endswith("#EXT-X-ENDLIST\n")
    assert vod.endswith("#EXT-X-ENDLIST\n")
    assert tag_values(vod, "#EXT-X-PLAYLIST-TYPE") == ["VOD"]
    assert tag_values(vod, "#EXT-X-MEDIA-SEQUENCE") == ["0"]
    assert uris(vod) == [f"segment_{i:06d}.ts" for i in range(5)]
    assert all((tmp_path / uri).read_bytes() == f"segment {i}".encode() for i, uri in enumerate(uris(vod)))


def test_writes_are_atomic_and_listed_segments_are_complete(tmp_path):
    writer = PlaylistWriter(tmp_path, window=3)
    writer.begin_run()
    payload = bytes(range(256)) * 1000
    for i in range(8):
        writer.add_segment(payload, DURATION, T0 + timedelta(seconds=2 * i))
        for uri in uris((tmp_path / "live.m3u8").read_text()):
            assert (tmp_path / uri).read_bytes() == payload
    assert list(tmp_path.glob("*.tmp")) == []
    assert len(list(tmp_path.glob("segment_*.ts"))) == 8  # keep_all keeps the replay


def test_segment_files_are_deleted_a_window_after_leaving_the_playlist(tmp_path):
    writer = PlaylistWriter(tmp_path, window=3, keep_all=False)
    writer.begin_run()
    add(writer, 10)
    # Listed: 7, 8, 9. Out of the list for at most 3 more segments: 3 (left when 6 came), 4, 5, 6.
    assert sorted(p.name for p in tmp_path.glob("segment_*.ts")) == [f"segment_{i:06d}.ts" for i in range(3, 10)]
    assert not (tmp_path / "vod.m3u8").exists()


def test_fenced_writer_writes_nothing(tmp_path):
    writer = PlaylistWriter(tmp_path, may_publish=lambda: False)
    writer.begin_run()
    assert writer.add_segment(b"zombie", DURATION, T0) is False
    writer.end()
    assert list(tmp_path.iterdir()) == []
    allowed = PlaylistWriter(tmp_path)
    assert allowed.add_segment(b"x", DURATION, T0, may_publish=lambda: False) is False
    assert allowed.add_segment(b"x", DURATION, T0) is True
    assert uris((tmp_path / "live.m3u8").read_text()) == ["segment_000000.ts"]


def test_a_reader_polling_while_segments_are_written_never_sees_a_partial_file(tmp_path):
    import threading

    writer = PlaylistWriter(tmp_path, window=3)
    writer.begin_run()

    def payload(index: int) -> bytes:
        return bytes([index % 251]) * (300_000 + index)  # large enough that a write takes a while

    seen, problems, done = set(), [], threading.Event()

    def poll() -> None:
        while not done.is_set():
            listed = (tmp_path / "live.m3u8").read_text() if (tmp_path / "live.m3u8").exists() else ""
            names = set(uris(listed)) | {path.name for path in tmp_path.glob("segment_*.ts")}
            for name in names:
                index = int(name[8:14])
                data = (tmp_path / name).read_bytes()
                if data != payload(index):
                    problems.append((name, len(data)))
                seen.add(index)

    reader = threading.Thread(target=poll)
    reader.start()
    # Write until the reader has looked at 20 segments while writing went on, however slowly it
    # got going: a count of writes alone could end before a slow reader's first look.
    written = 0
    while len(seen) < 20 and written < 200:
        writer.add_segment(payload(written), DURATION, T0 + timedelta(seconds=2 * written))
        written += 1
    done.set()
    reader.join()
    assert problems == []
    assert len(seen) >= 20  # the reader really raced the writer
