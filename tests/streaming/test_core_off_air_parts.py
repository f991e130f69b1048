"""The off-air monitor's parts on plain data: who is heard from envelopes, hysteresis, reading a
playlist as a plain player does (low-latency parts and all), the mixer's envelope record, fMP4
segments."""

import io
import json

import av
import numpy as np
import pytest

from streaming.core.alarms import AlarmChange, Hysteresis
from streaming.core.envelopes import EnvelopeBatch, EnvelopeRecorder, EnvelopeStore, EnvelopeTail, append_batch
from streaming.core.hearing import nonnegative_least_squares, who_is_heard
from streaming.core.media_playlist import PlaylistError, parse_media_playlist
from streaming.core.program_audio import ProgramDecoder, ProgramTrack, UndecodableSegment, container_of

RNG = np.random.default_rng(7)


def gates(count: int = 50, duty: float = 0.6) -> np.ndarray:
    """A line's power per block: a voice-like on and off, 0.03 when on."""
    return 0.03 * (RNG.random(count) < duty)


def test_the_lines_that_make_the_program_are_heard_and_the_others_are_not():
    alice, bob, carol = gates(), gates(), gates()
    # Alice at full gain and Bob 6 dB down; Carol sounds, but is not in the program.
    program = alice + 0.25 * bob
    hearing = who_is_heard(program, {"alice": alice, "bob": bob, "carol": carol})
    assert hearing.heard == {"alice", "bob"}
    assert hearing.undecided == frozenset()
    assert hearing.sounding == {"alice", "bob", "carol"}
    assert hearing.unexplained == pytest.approx(0.0, abs=0.05)


def test_a_source_nobody_recorded_is_unexplained_and_credits_no_line_that_merely_overlaps_it():
    alice, intruder = gates(), gates()
    hearing = who_is_heard(intruder, {"alice": alice})
    assert hearing.heard == frozenset() and hearing.unexplained == 1.0


def test_lines_whose_envelopes_move_alike_are_undecided_when_heard_and_decided_when_not():
    steady = np.full(50, 0.03)
    hearing = who_is_heard(steady, {"a": steady.copy(), "b": steady * 0.5, "c": gates()})
    assert hearing.heard == frozenset() and hearing.undecided == {"a", "b"}
    silent = who_is_heard(gates(), {"a": steady.copy(), "b": steady * 0.5, "quiet": np.full(50, 1e-9)})
    assert silent.undecided == frozenset() and silent.sounding == {"a", "b"}


def test_a_silent_program_hears_nobody_and_explains_nothing_missing():
    hearing = who_is_heard(np.zeros(50), {"a": gates()})
    assert (hearing.heard, hearing.unexplained) == (frozenset(), 0.0)


def test_nonnegative_least_squares_matches_the_known_weights_and_clips_negative_ones():
    columns = np.stack([gates(), gates(), gates()], axis=1)
    assert nonnegative_least_squares(columns, columns @ np.array([2.0, 0.0, 0.5])) == pytest.approx(
        [2.0, 0.0, 0.5], abs=1e-9
    )
    # The best unconstrained fit of this would need a negative weight for the second column.
    target = columns[:, 0] - 0.5 * columns[:, 1]
    weights = nonnegative_least_squares(columns, target)
    assert (weights >= 0).all() and weights[1] == 0.0


def test_hysteresis_raises_after_the_condition_held_and_clears_after_it_was_gone():
    alarm = Hysteresis("dead_air", raise_after=2.0, clear_after=1.0)
    assert alarm.observe(True, 0.0, detail="silent") is None
    assert alarm.observe(None, 1.0) is None  # unknown: the streak goes on
    assert alarm.observe(True, 1.9) is None
    assert alarm.observe(True, 2.0, detail="still silent") == AlarmChange("dead_air", True, "still silent", 2.0)
    assert (alarm.active, alarm.since) == (True, 2.0)
    assert alarm.observe(False, 2.5) is None
    assert alarm.observe(True, 3.0) is None  # back: the clearing streak starts again
    assert alarm.observe(False, 3.1) is None
    assert alarm.observe(False, 4.2) == AlarmChange("dead_air", False, "", 4.2)
    assert alarm.force(True, 5.0, "adopted") == AlarmChange("dead_air", True, "adopted", 5.0)
    assert alarm.force(True, 6.0, "again") is None


CARD = (
    '#EXT-X-DATERANGE:ID="stage-7",CLASS="net.webcast.stage",START-DATE="2025-05-01T12:00:00.020+00:00",'
    'END-ON-NEXT=YES,X-PHASE="live",X-HOLD="NO",X-SPEAKING="Ada%0A100%25 Bea",X-SEGMENT="",X-QUESTION="",'
    'X-QUESTION-NAME="",X-SLIDE=""'
)
LOW_LATENCY = f"""#EXTM3U
#EXT-X-VERSION:9
#EXT-X-TARGETDURATION:2
#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=1.0
#EXT-X-PART-INF:PART-TARGET=0.33
#EXT-X-MEDIA-SEQUENCE:40
#EXT-X-DISCONTINUITY-SEQUENCE:2
#EXT-X-MAP:URI="init.mp4"
{CARD}
#EXT-X-PROGRAM-DATE-TIME:2025-05-01T12:00:00.000+00:00
#EXTINF:2.00533,
segment_000040.m4s
#EXT-X-DATERANGE:ID="ad-1",CLASS="com.example.ad",START-DATE="2025-05-01T12:00:01.000+00:00"
#EXT-X-DISCONTINUITY
#EXT-X-PROGRAM-DATE-TIME:2025-05-01T12:00:05.000+00:00
#EXT-X-PART:DURATION=0.33,URI="part_000041_0.m4s",INDEPENDENT=YES
#EXTINF:2.00533,
segment_000041.m4s
#EXTINF:2.00533,
segment_000042.m4s
#EXT-X-PART:DURATION=0.33,URI="part_000043_0.m4s",INDEPENDENT=YES
#EXT-X-PRELOAD-HINT:TYPE=PART,URI="part_000043_1.m4s"
"""


def test_a_playlist_is_read_as_a_plain_player_reads_it_parts_and_hints_skipped():
    playlist = parse_media_playlist(LOW_LATENCY)
    assert (playlist.target_duration, playlist.media_sequence, playlist.discontinuity_sequence) == (2, 40, 2)
    assert playlist.map_uri == "init.mp4" and not playlist.ended
    assert [(s.sequence, s.uri, s.discontinuity, s.discontinuity_sequence) for s in playlist.segments] == [
        (40, "segment_000040.m4s", False, 2),
        (41, "segment_000041.m4s", True, 3),
        (42, "segment_000042.m4s", False, 3),
    ]
    start = playlist.segments[0].pdt
    # A segment without its own date-time carries on from the one before.
    assert [round(s.pdt - start, 5) for s in playlist.segments] == [0.0, 5.0, 7.00533]
    [card] = playlist.cards  # another party's date range is not a program card
    assert (card.number, card.phase, card.hold, card.speaking) == (7, "live", False, ("Ada", "100% Bea"))
    assert round(card.start - start, 3) == 0.02


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "starts with #EXTM3U"),
        ("<html>502</html>", "starts with #EXTM3U"),
        ("#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:1\n", "no #EXT-X-TARGETDURATION"),
        ("#EXTM3U\n#EXT-X-TARGETDURATION:2\nsegment.ts\n", "has no #EXTINF"),
        ("#EXTM3U\n#EXT-X-TARGETDURATION:two\n", "not a decimal integer"),
        ("#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-PROGRAM-DATE-TIME:yesterday\n", "not a date-time"),
        ("#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-PROGRAM-DATE-TIME:2025-05-01T12:00:00\n", "no time zone"),
        ('#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-DATERANGE:ID="stage-x",CLASS="net.webcast.stage"\n', "card"),
        ('#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-DATERANGE:ID="a",,\n', "attribute list"),
    ],
)
def test_what_is_not_a_media_playlist_is_refused_with_the_reason(text, problem):
    with pytest.raises(PlaylistError, match=problem):
        parse_media_playlist(text)


def test_the_envelope_record_keeps_each_lines_level_and_gain_per_block(tmp_path):
    recorder = EnvelopeRecorder(frame_samples=960, block_ticks=2, batch_blocks=2)

    def levels(**lines):
        return tuple(lines), np.array([v[0] for v in lines.values()]), np.array([v[1] for v in lines.values()])

    assert recorder.add(0, levels(a=(0.01, 1.0))) is None
    assert recorder.add(960, levels(a=(0.03, 0.5), b=(0.04, 0.0))) is None
    assert recorder.add(1920, levels(a=(1e-12, 1.0))) is None
    batch = recorder.add(2880, levels(a=(0.0, 1.0), b=(0.02, 0.0)))
    assert batch == EnvelopeBatch(0, 1920, {"a": [(0.02, 0.75), (5e-13, 1.0)], "b": [(0.02, 0.0), (0.01, 0.0)]}, 2)
    line = batch.to_json(1000.0)
    assert json.loads(line) == {
        "start": 1000.0,
        "block": 0.04,
        "lines": {
            "a": {"level_db": [-17.0, -100.0], "gain": [0.75, 1.0]},
            "b": {"level_db": [-17.0, -20.0], "gain": [0.0, 0.0]},
        },
    }
    path = tmp_path / "record.jsonl"
    append_batch(path, line)
    append_batch(path, batch.to_json(1000.08))
    store = EnvelopeStore()
    tail = EnvelopeTail(path)
    for text in tail.read():
        store.add_line(text)
    assert tail.read() == []
    assert [block.start for block in store.blocks(1000.0, 1000.2)] == pytest.approx([1000.0, 1000.04, 1000.08, 1000.12])
    assert store.blocks(1000.04, 1000.05)[0].lines == {
        "a": (pytest.approx(1e-10), 1.0),
        "b": (pytest.approx(0.01), 0.0),
    }
    assert (store.start, store.end) == (1000.0, pytest.approx(1000.16))
    with pytest.raises(ValueError):
        store.add_line('{"start": "soon", "block": 0.1, "lines": {}}')


def test_the_tail_reads_whole_lines_only_and_starts_anew_when_the_record_shrinks(tmp_path):
    path = tmp_path / "record.jsonl"
    tail = EnvelopeTail(path)
    assert tail.read() == []  # not written yet
    path.write_bytes(b'{"n":1}\n{"n":')
    assert tail.read() == ['{"n":1}']
    with path.open("ab") as file:
        file.write(b"2}\n")
    assert tail.read() == ['{"n":2}']
    path.write_bytes(b'{"n":3}\n')
    assert tail.read() == ['{"n":3}']


def fragmented_mp4_tone(seconds: float) -> tuple[bytes, list[bytes]]:
    """A 440 Hz tone as fMP4 (CMAF-style, as low-latency HLS may carry it): the initialisation
    section and the media fragments, each a segment of its own."""
    buffer = io.BytesIO()
    options = {"movflags": "frag_keyframe+empty_moov+default_base_moof", "frag_duration": "1000000"}
    with av.open(buffer, "w", format="mp4", options=options) as container:
        stream = container.add_stream("aac", rate=48000, layout="stereo")
        for start in range(0, round(seconds * 48000), 960):
            tone = (0.25 * np.sin(2 * np.pi * 440 * (np.arange(960) + start) / 48000)).astype(np.float32)
            frame = av.AudioFrame.from_ndarray(np.stack([tone, tone]), format="fltp", layout="stereo")
            frame.sample_rate, frame.pts = 48000, start
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    data = buffer.getvalue()
    starts = [index - 4 for index in range(len(data)) if data.startswith(b"moof", index)]
    return data[: starts[0]], [data[a:b] for a, b in zip(starts, [*starts[1:], len(data)], strict=True)]


def test_fragmented_mp4_segments_decode_after_their_initialisation_section():
    init, fragments = fragmented_mp4_tone(3.0)
    assert container_of("segment_000041.m4s") == "mp4" and container_of("segment_000001.ts") == "mpegts"
    decoder = ProgramDecoder()
    audio = np.concatenate([decoder.decode(fragment, "mp4", init) for fragment in fragments], axis=1)
    assert audio.shape[0] == 2 and abs(audio.shape[1] - 3 * 48000) < 2048
    assert np.sqrt(np.mean(audio[:, 4800:-4800] ** 2)) == pytest.approx(0.25 / np.sqrt(2), rel=0.05)
    with pytest.raises(UndecodableSegment):
        decoder.decode(b"not a segment", "mpegts")


def test_the_programs_power_is_read_across_segments_that_follow_on_and_not_across_a_gap():
    track = ProgramTrack()
    tone = np.full((2, 48000), 0.5, dtype=np.float32)
    track.add(100.0, tone)
    track.add(101.0009, tone * 0.5)  # the next segment, its date-time truncated to the millisecond
    track.add(105.0, tone)  # after a cut
    assert track.mean_power(100.9, 101.1) == pytest.approx((0.25 + 0.0625) / 2, rel=0.01)
    assert track.mean_power(101.5, 102.0) == pytest.approx(0.0625)
    assert track.mean_power(101.9, 102.1) is None  # not heard: the cut
    assert track.mean_power(99.0, 99.5) is None
    assert (track.start, round(track.end, 4)) == (100.0, 106.0)
