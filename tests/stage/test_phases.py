"""Phases: pre-show, rehearsal, live (with hold), ended; and what the mixer hears in each."""

import pytest

from stage import machine
from tests.stage.show import START, Show


def test_a_new_stage_is_preshow_at_version_zero_with_the_run_of_show_queued():
    show = Show()
    assert show.state["version"] == 0
    assert show.state["phase"] == "preshow"
    assert show.state["rundown"] == ["s1", "s2", "s3"]
    assert show.statuses() == {"s1": "queued", "s2": "queued", "s3": "queued"}
    assert show.on_air() == []


def test_go_live_then_end_records_the_show_clock():
    show = Show()
    assert show.do("go_live") == [{"type": "phase", "phase": "live"}]
    assert (show.state["phase"], show.state["live_since"], show.state["version"]) == ("live", START + 1, 1)
    show.do("set_on_air", line="p1", on_air=True)
    assert show.do("end_show", after=10) == [{"type": "phase", "phase": "ended"}]
    assert (show.state["phase"], show.state["ended_at"], show.on_air()) == ("ended", START + 12, [])


@pytest.mark.parametrize(
    ("path", "refused", "code"),
    [
        ([], "end_show", "wrong_phase"),
        ([], "stop_rehearsal", "wrong_phase"),
        ([], "set_hold", "wrong_phase"),
        (["go_live"], "go_live", "wrong_phase"),
        (["go_live"], "start_rehearsal", "wrong_phase"),
        (["start_rehearsal"], "start_rehearsal", "wrong_phase"),
        (["start_rehearsal"], "end_show", "wrong_phase"),
        (["go_live", "end_show"], "go_live", "show_ended"),
        (["go_live", "end_show"], "set_on_air", "show_ended"),
        (["go_live", "end_show"], "take", "show_ended"),
        (["go_live", "end_show"], "next", "show_ended"),
        (["go_live", "end_show"], "cue", "show_ended"),
    ],
)
def test_phase_transitions_that_are_not_allowed_are_refused(path, refused, code):
    show = Show()
    for step in path:
        show.do(step)
    fields = {
        "set_hold": {"hold": True},
        "set_on_air": {"line": "p1", "on_air": True},
        "cue": {"to": "all", "kind": "on"},
    }.get(refused, {})
    assert show.refused(refused, **fields).code == code


def test_rehearsal_mixes_privately_and_nothing_of_it_counts_once_live():
    show = Show()
    show.do("start_rehearsal")
    assert show.state["phase"] == "rehearsal"
    show.do("next")
    show.do("take")
    assert machine.mix_plan(show.state)["public"] is False
    assert machine.audible_gains(show.state) == {"p1": 0.0, "p2": None, "p3": None, "p4": None, "p5": None}
    show.do("go_live")
    assert show.state["phase"] == "live" and show.state["rehearsal_since"] is None
    assert show.statuses() == {"s1": "queued", "s2": "queued", "s3": "queued"}
    assert show.state["segments"]["s1"]["actual_start"] is None
    assert show.on_air() == [] and show.state["cues"] == {}
    assert show.state["preview"] == {"segment": None, "presenters": []}


def test_stopping_a_rehearsal_returns_to_preshow_and_resets_the_run():
    show = Show()
    show.do("start_rehearsal")
    show.do("next")
    show.do("take")
    show.do("set_hold", hold=True)
    show.do("stop_rehearsal")
    assert (show.state["phase"], show.state["hold"], show.on_air()) == ("preshow", False, [])
    assert show.statuses()["s1"] == "queued"


def test_lines_are_silent_before_the_show_and_after_it():
    show = Show()
    show.do("set_on_air", line="p1", on_air=True)
    assert machine.audible_gains(show.state)["p1"] is None
    assert machine.mix_plan(show.state) == {
        "gains": {"p1": None, "p2": None, "p3": None, "p4": None, "p5": None},
        "public": False,
        "hold": False,
        "fallback": "hold_music",
        "preview": [],
        "backstage_open": [],
        "talkback": {},
    }


def test_hold_silences_every_line_and_plays_the_fallback():
    show = Show()
    show.do("go_live")
    show.do("set_on_air", line="p1", on_air=True)
    show.do("set_line_health", line="p1", health="ok", role="mixer")
    assert machine.mix_plan(show.state)["hold"] is False
    show.do("set_hold", hold=True)
    show.do("set_fallback", source="slate_tone")
    plan = machine.mix_plan(show.state)
    assert plan["gains"]["p1"] is None and plan["fallback"] == "slate_tone" and plan["hold"] is True
    assert plan["public"] is True
    show.do("set_hold", hold=False)
    assert machine.mix_plan(show.state)["gains"]["p1"] == 0.0
    assert machine.mix_plan(show.state)["hold"] is False


def test_muted_lines_and_gains_reach_the_mix():
    show = Show()
    show.do("go_live")
    show.do("set_on_air", line="p1", on_air=True)
    show.do("set_on_air", line="p2", on_air=True)
    show.do("set_gain", line="p1", gain_db=-6.5)
    show.do("set_mute", line="p2", muted=True)
    assert machine.audible_gains(show.state) == {"p1": -6.5, "p2": None, "p3": None, "p4": None, "p5": None}


def test_a_command_that_changes_nothing_keeps_the_version():
    show = Show()
    show.do("set_mute", line="p1", muted=True)
    before = show.state
    assert show.do("set_mute", line="p1", muted=True) == []
    assert show.state is before and show.state["version"] == 1


def test_apply_never_mutates_its_input():
    show = Show()
    show.do("go_live")
    frozen = repr(show.state)
    before = show.state
    machine.apply(before, {"type": "next"}, now=START + 50)
    machine.apply(before, {"type": "set_on_air", "line": "p1", "on_air": True}, now=START + 50)
    assert repr(before) == frozen
