"""The program card from the engine: written into the playlist at the first sample mixed with it."""

from datetime import UTC, datetime, timedelta

import numpy as np

from streaming.core.clock import FreeRunningClock
from streaming.core.engine import MixEngine
from tests.streaming.test_core_engine import ProgramTape, _run_ticks_with, decode_segments, sine
from tests.supervision.playlists import date_range_problems, parse

SR = 48000
WALL = 1_800_000_000.0  # the free-running clock's wall time at the first tick
TICK = 960
# Segments of 94 AAC frames (2.005 s), not the default 47: the segment indices below are for them.
TWO_SECONDS = 94


def card(*speaking: str, **fields) -> dict:
    empty = {"segment": "", "question": "", "question_name": ""}
    return {"phase": "live", "hold": False, "speaking": list(speaking)} | empty | fields


def cards_in(path):
    playlist = parse(path.read_text())
    assert date_range_problems(playlist) == []
    return playlist


def test_a_card_starts_at_the_program_date_time_of_the_first_sample_mixed_with_it(tmp_path):
    engine = MixEngine(tmp_path, clock=FreeRunningClock(start_wall=WALL), frames_per_segment=TWO_SECONDS)
    engine.mixer = tape = ProgramTape()
    engine.set_lines([sine("a", 440)])
    engine.set_mix({"a": None}, card=card())
    # Received between tick 150 and tick 151: tick 151 (index 150) is the first mixed with it.
    _run_ticks_with(engine, 300, {150: lambda: engine.set_mix({"a": 0.0}, card=card("Ada"))})
    engine.end_show()

    assert not tape.ticks[149].any() and tape.ticks[150].any()
    vod = cards_in(tmp_path / "vod.m3u8")
    silent, ada = vod.date_ranges
    assert (silent.attributes["ID"], silent.text("X-SPEAKING"), silent.before) == ("stage-0", "", 0)
    assert silent.start == datetime.fromtimestamp(WALL, UTC)
    assert ada.attributes["ID"] == "stage-1"
    assert ada.start == datetime.fromtimestamp(WALL + 150 * TICK / SR, UTC)  # 3.000 s in
    # Listed before the segment holding that sample (the second: 2.005 s to 4.011 s after priming).
    segment = vod.entries[ada.before]
    assert ada.before == 1 and segment.pdt <= ada.start < segment.pdt + timedelta(seconds=segment.duration)

    # And where it is heard: the decoded program's onset is within a tick of the card's start.
    program = decode_segments(tmp_path, [entry.uri for entry in vod.entries])[0]
    onset = int(np.argmax(np.abs(program) > 0.01))
    heard_at = vod.entries[0].pdt + timedelta(seconds=onset / SR)
    assert abs((heard_at - ada.start).total_seconds()) < TICK / SR


def test_an_unchanged_card_writes_no_tag_and_a_changed_field_does(tmp_path):
    engine = MixEngine(tmp_path, clock=FreeRunningClock(start_wall=WALL))
    engine.set_lines([sine("a", 440)])
    engine.set_mix({"a": 0.0}, card=card("Ada"))
    _run_ticks_with(
        engine,
        250,
        {
            50: lambda: engine.set_mix({"a": 0.0}, card=card("Ada")),  # a chat message: same card
            100: lambda: engine.set_mix({"a": -6.0}),  # no card: the one in force stays
            150: lambda: engine.set_mix({"a": -6.0}, card=card("Ada", question="Why?", question_name="Bo")),
        },
    )
    engine.end_show()
    vod = cards_in(tmp_path / "vod.m3u8")
    assert [(d.attributes["ID"], d.text("X-QUESTION")) for d in vod.date_ranges] == [
        ("stage-0", ""),
        ("stage-1", "Why?"),
    ]


def test_a_restarted_engine_writes_the_card_in_force_and_numbers_on(tmp_path):
    for name in ("Ada", "Bea"):
        engine = MixEngine(tmp_path, clock=FreeRunningClock(), window=3)
        engine.set_lines([sine("a", 440)])
        engine.set_mix({"a": 0.0}, card=card(name))
        _run_ticks_with(engine, 250, {})
    engine.end_show()
    vod = cards_in(tmp_path / "vod.m3u8")
    restarted = [index for index, entry in enumerate(vod.entries) if entry.discontinuity]
    assert len(restarted) == 1 and 0 < restarted[0] < len(vod.entries)
    assert [(d.attributes["ID"], d.text("X-SPEAKING"), d.before) for d in vod.date_ranges] == [
        ("stage-0", "Ada", 0),
        ("stage-1", "Bea", restarted[0]),  # the restarted run's first segment, after its discontinuity
    ]


def test_rehearsal_cards_stay_in_the_private_playlist_and_going_live_starts_the_public_one(tmp_path):
    engine = MixEngine(tmp_path, clock=FreeRunningClock(start_wall=WALL))
    engine.set_lines([sine("a", 440)])
    engine.set_mix({"a": 0.0}, public=False, card=card("Ada", phase="rehearsal"))
    go_live = {120: lambda: engine.set_mix({"a": None}, public=True, card=card(phase="live"))}
    _run_ticks_with(engine, 250, go_live)
    engine.end_show()
    private = cards_in(tmp_path / "private" / "live.m3u8")
    assert [d.attributes["X-PHASE"] for d in private.date_ranges] == ["rehearsal"]
    public = cards_in(tmp_path / "live.m3u8")
    (live,) = public.date_ranges
    assert (live.attributes["X-PHASE"], live.before) == ("live", 0)
    assert live.start == datetime.fromtimestamp(WALL + 120 * TICK / SR, UTC)


def test_a_fenced_engine_writes_no_card(tmp_path):
    engine = MixEngine(tmp_path, clock=FreeRunningClock(), may_publish=lambda: False)
    engine.set_lines([sine("a", 440)])
    engine.set_mix({"a": 0.0}, card=card("Ada"))
    _run_ticks_with(engine, 150, {})
    assert list(tmp_path.glob("*.m3u8")) == []


