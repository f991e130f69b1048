"""The program card in the playlists: EXT-X-DATERANGE tags at the segment that carries each change."""

import json
from datetime import timedelta

from streaming.core.playlist import PlaylistWriter
from tests.streaming.test_core_playlist import DURATION, T0, add
from tests.supervision.playlists import date_range_problems, parse


def card(*speaking: str, **fields) -> dict:
    empty = {"segment": "", "question": "", "question_name": ""}
    return {"phase": "live", "hold": False, "speaking": list(speaking)} | empty | fields


def at(seconds: float):
    return T0 + timedelta(seconds=seconds)


def read(path):
    playlist = parse(path.read_text())
    assert date_range_problems(playlist) == []
    return playlist


def ids(playlist) -> list[str]:
    return [date_range.attributes["ID"] for date_range in playlist.date_ranges]


def test_a_card_is_written_as_a_date_range_before_the_segment_its_start_falls_in(tmp_path):
    writer = PlaylistWriter(tmp_path, window=6)
    writer.begin_run()
    writer.add_card(card("Ada", segment="Welcome"), at(0.020))
    writer.add_card(card("Bea"), at(3.0))  # in the second segment (2.005 s to 4.011 s)
    writer.add_card(card("Bea", "Cem"), at(3.5))
    add(writer, 3)
    lines = (tmp_path / "live.m3u8").read_text().splitlines()
    assert lines[4:7] == [
        "#EXT-X-DISCONTINUITY-SEQUENCE:0",
        '#EXT-X-DATERANGE:ID="stage-0",CLASS="net.webcast.stage",START-DATE="2025-05-01T12:00:00.020+00:00",'
        'END-ON-NEXT=YES,X-PHASE="live",X-HOLD="NO",X-SPEAKING="Ada",X-SEGMENT="Welcome",X-QUESTION="",'
        'X-QUESTION-NAME=""',
        "#EXT-X-PROGRAM-DATE-TIME:2025-05-01T12:00:00.000+00:00",
    ]
    playlist = read(tmp_path / "live.m3u8")
    assert [(d.attributes["ID"], d.before) for d in playlist.date_ranges] == [
        ("stage-0", 0),
        ("stage-1", 1),
        ("stage-2", 1),
    ]
    assert playlist.date_ranges[2].text("X-SPEAKING") == "Bea\nCem"
    assert playlist.date_ranges[2].attributes["START-DATE"] == "2025-05-01T12:00:03.500+00:00"


def test_quotes_percent_signs_newlines_and_other_scripts_survive_the_quoted_strings(tmp_path):
    names = ['Ada "the Count" Lovelace', "100% Bea", "Zoë 李 ✓"]
    writer = PlaylistWriter(tmp_path)
    writer.begin_run()
    writer.add_card(
        card(*names, hold=True, segment='Q&A: "why?"', question="Is 5% %0A\r\na lot?\n", question_name="Ça va"),
        at(0.5),
    )
    add(writer, 1)
    text = (tmp_path / "live.m3u8").read_text(encoding="utf-8")
    tag = next(line for line in text.splitlines() if line.startswith("#EXT-X-DATERANGE:"))
    assert 'X-SPEAKING="Ada %22the Count%22 Lovelace%0A100%25 Bea%0AZoë 李 ✓"' in tag
    assert 'X-QUESTION="Is 5%25 %250A%0D%0Aa lot?%0A"' in tag
    (date_range,) = read(tmp_path / "live.m3u8").date_ranges
    assert date_range.text("X-SPEAKING").split("\n") == names
    assert date_range.text("X-SEGMENT") == 'Q&A: "why?"'
    assert date_range.text("X-QUESTION") == "Is 5% %0A\r\na lot?\n"
    assert date_range.text("X-QUESTION-NAME") == "Ça va"
    assert date_range.attributes["X-HOLD"] == "YES"


def test_a_card_waits_for_the_segment_that_holds_its_sample(tmp_path):
    writer = PlaylistWriter(tmp_path)
    writer.begin_run()
    add(writer, 1)
    writer.add_card(card("Ada"), at(4.5))  # after the second segment's end (4.011 s)
    add(writer, 1, offset=1)
    assert read(tmp_path / "live.m3u8").date_ranges == []
    add(writer, 1, offset=2)
    playlist = read(tmp_path / "live.m3u8")
    assert [(d.attributes["ID"], d.before) for d in playlist.date_ranges] == [("stage-0", 2)]


def test_the_live_window_carries_the_card_in_force_at_its_first_segment_and_the_replay_all(tmp_path):
    writer = PlaylistWriter(tmp_path, window=3)
    writer.begin_run()
    for seconds, name in ((0.5, "Ada"), (3.0, "Bea"), (9.0, "Cem"), (17.0, "Dov")):
        writer.add_card(card(name), at(seconds))
    add(writer, 10)  # listed: segments 7, 8, 9 (14.04 s to 20.05 s)
    live = read(tmp_path / "live.m3u8")
    assert [e.index for e in live.entries] == [7, 8, 9]
    assert [(d.text("X-SPEAKING"), d.before) for d in live.date_ranges] == [("Cem", 0), ("Dov", 1)]
    vod = read(tmp_path / "vod.m3u8")
    assert ids(vod) == ["stage-0", "stage-1", "stage-2", "stage-3"]
    assert [d.before for d in vod.date_ranges] == [0, 1, 4, 8]
    writer.end()
    vod = read(tmp_path / "vod.m3u8")
    assert vod.ended and ids(vod) == ["stage-0", "stage-1", "stage-2", "stage-3"]


def test_without_a_replay_the_writer_keeps_only_the_cards_it_may_still_list(tmp_path):
    writer = PlaylistWriter(tmp_path, window=2, keep_all=False)
    writer.begin_run()
    for seconds, name in ((0.5, "Ada"), (3.0, "Bea"), (5.0, "Cem")):
        writer.add_card(card(name), at(seconds))
    add(writer, 6)
    assert [c.id for c in writer.cards] == ["stage-2"]
    assert [d.text("X-SPEAKING") for d in read(tmp_path / "live.m3u8").date_ranges] == ["Cem"]


def test_a_restarted_writer_continues_the_numbering_and_forgets_a_card_never_heard(tmp_path):
    first = PlaylistWriter(tmp_path, window=3)
    first.begin_run()
    first.add_card(card("Ada"), at(0.5))
    add(first, 2)
    first.add_card(card("Bea"), at(4.5))  # the mixer dies before this sample is published

    # Its number was never listed: only what a published segment saved counts.
    assert json.loads((tmp_path / "playlist_state.json").read_text())["next_card_number"] == 1
    second = PlaylistWriter(tmp_path, window=3)
    second.begin_run()
    second.add_card(card("Ada", segment="Again"), at(30.0))  # the card in force at its first tick
    add(second, 2, start=at(30.0))
    vod = read(tmp_path / "vod.m3u8")
    assert [(d.attributes["ID"], d.text("X-SPEAKING"), d.before) for d in vod.date_ranges] == [
        ("stage-0", "Ada", 0),
        ("stage-1", "Ada", 2),
    ]
    live = read(tmp_path / "live.m3u8")
    assert [e.index for e in live.entries] == [1, 2, 3]
    assert [(d.attributes["ID"], d.before) for d in live.date_ranges] == [
        ("stage-0", 0),
        ("stage-1", 1),
    ]


def test_a_card_before_a_segment_moved_on_in_time_starts_with_that_segment(tmp_path):
    writer = PlaylistWriter(tmp_path)
    writer.begin_run()
    add(writer, 1)
    restarted = PlaylistWriter(tmp_path)
    restarted.begin_run()
    restarted.add_card(card("Ada"), at(-60))  # a wall clock that jumped back
    restarted.add_segment(b"b", DURATION, at(-60))
    playlist = read(tmp_path / "live.m3u8")
    assert playlist.date_ranges[0].before == 1
    assert playlist.date_ranges[0].attributes["START-DATE"] == "2025-05-01T12:00:02.005+00:00"


def test_a_fenced_writer_lists_no_card(tmp_path):
    writer = PlaylistWriter(tmp_path, may_publish=lambda: False)
    writer.begin_run()
    writer.add_card(card("Ada"), at(0.5))
    assert writer.add_segment(b"zombie", DURATION, T0) is False
    assert list(tmp_path.iterdir()) == []


def test_a_playlist_written_before_cards_were_carried_loads_and_carries_them_on(tmp_path):
    writer = PlaylistWriter(tmp_path)
    writer.begin_run()
    add(writer, 1)
    state = json.loads((tmp_path / "playlist_state.json").read_text())
    for key in ("next_card_number", "cards", "pending_cards"):
        del state[key]
    (tmp_path / "playlist_state.json").write_text(json.dumps(state))
    restarted = PlaylistWriter(tmp_path)
    restarted.begin_run()
    restarted.add_card(card("Ada"), at(2.5))
    add(restarted, 1, offset=1)
    assert ids(read(tmp_path / "live.m3u8")) == ["stage-0"]
