"""What the mixer takes from the stage: gains, public or private, hold, the fallback source and the
program card."""

import time

import pytest

from stage import store
from streaming.core.lines import LineSpec
from streaming.stage_link import STAGE_ONLY_REPORTS, mix_settings, needs_mixer, report_command
from streaming.worker import BUILT_IN_HOLD_MUSIC, SLATE_TONE, fallback_spec
from tests.factories import make_event, make_tone_presenter

pytestmark = [pytest.mark.both_modes, pytest.mark.django_db]


def command(event_id: int, type_: str, **fields) -> dict:
    version = store.snapshot(event_id)["version"]
    outcome = store.submit(
        event_id, {"type": type_, "version": version, "client_id": f"{time.time_ns()}"} | fields, actor="t"
    )
    assert outcome.applied, outcome.error
    return outcome.state


def test_phases_gains_hold_and_fallback_as_the_mixer_sees_them():
    event = make_event("linked")
    line = make_tone_presenter(event, "Alice", 440).line_id
    state = store.snapshot(event.pk)
    assert not needs_mixer(state)
    state = command(event.pk, "start_rehearsal")
    assert needs_mixer(state) and mix_settings(state).public is False
    state = command(event.pk, "go_live")
    state = command(event.pk, "set_on_air", line=line, on_air=True)
    state = command(event.pk, "set_gain", line=line, gain_db=-6.0)
    mix = mix_settings(state)
    assert (mix.gains, mix.public, mix.hold, mix.fallback) == ({line: -6.0}, True, False, "hold_music")
    assert (mix.card["phase"], mix.card["hold"], mix.card["speaking"]) == ("live", False, ["Alice"])
    state = command(event.pk, "set_fallback", source="slate_tone")
    state = command(event.pk, "set_hold", hold=True)
    mix = mix_settings(state)
    assert (mix.gains, mix.hold, mix.fallback) == ({line: None}, True, "slate_tone")
    assert (mix.card["hold"], mix.card["speaking"]) == (True, [])  # on hold, nobody is heard
    state = command(event.pk, "end_show")
    assert not needs_mixer(state)


def test_fallback_sources_by_name(settings):
    assert fallback_spec("slate_tone") == SLATE_TONE
    settings.MIXER_FALLBACK_SOURCE = ""
    assert fallback_spec("hold_music") == BUILT_IN_HOLD_MUSIC
    settings.MIXER_FALLBACK_SOURCE = "/srv/hold.mp3"
    assert fallback_spec("hold_music") == LineSpec("fallback", "/srv/hold.mp3", loop=True)
    assert fallback_spec(None) == LineSpec("fallback", "/srv/hold.mp3", loop=True)


def test_a_health_report_becomes_the_mixers_command_with_the_reason_a_source_was_refused():
    reason = "169.254.169.254 is a link-local address: lines may not reach it on this server."
    report = {"type": "line_health", "line": "p1", "health": "faulted", "fault": reason}
    assert report_command(report) == (
        {"type": "set_line_health", "line": "p1", "health": "faulted", "fault": reason},
        "mixer",
    )
    assert report_command({"type": "line_health", "line": "p1", "health": "ok"}) == (
        {"type": "set_line_health", "line": "p1", "health": "ok"},
        "mixer",
    )
    assert report_command({"type": "meters", "lines": {}}) is None


def test_an_off_air_alarm_report_becomes_the_monitors_command_and_reaches_the_stage_only():
    report = {"type": "off_air_alarm", "alarm": "dead_air", "active": True, "detail": "silent " * 60}
    command, role = report_command(report)
    assert role == "monitor" and command["alarm"] == "dead_air" and command["active"] is True
    assert len(command["detail"]) == 300
    assert report_command({"type": "off_air_alarm", "alarm": "dead_air", "active": False, "detail": ""}) == (
        {"type": "set_off_air_alarm", "alarm": "dead_air", "active": False},
        "monitor",
    )
    assert {"off_air_alarm"} == STAGE_ONLY_REPORTS
