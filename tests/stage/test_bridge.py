"""Lines, presenters, preview and take, the green room and presence."""

from stage import machine
from stage.state import MAX_LINES_ON_AIR, tally
from tests.stage.show import Show


def live_show() -> Show:
    show = Show()
    show.do("go_live")
    return show


def test_next_puts_the_first_segment_on_standby_with_its_presenters_in_preview_and_cued():
    show = live_show()
    happenings = show.do("next")
    assert happenings == [
        {"type": "standby", "segment": "s1", "presenters": ["p1"]},
        {"type": "cue", "cue": "c1", "to": "p1", "kind": "standby"},
    ]
    assert show.state["preview"] == {"segment": "s1", "presenters": ["p1"]}
    assert show.statuses()["s1"] == "standby"
    assert show.state["cues"]["c1"]["text"] == "Welcome"
    assert tally(show.state, "p1") == "preview"


def test_take_routes_preview_to_air_returns_the_previous_and_starts_the_countdown():
    show = live_show()
    show.do("next")
    show.do("take")
    assert show.on_air() == ["p1"] and tally(show.state, "p1") == "program"
    show.do("next")
    assert (tally(show.state, "p2"), tally(show.state, "p3")) == ("preview", "preview")
    happenings = show.do("take", after=5)
    assert happenings == [
        {
            "type": "take",
            "segment": "s2",
            "presenters": ["p2", "p3"],
            "chapter": "Panel",
            "now_speaking": ["Bea", "Cem"],
        }
    ]
    assert show.on_air() == ["p2", "p3"]
    assert [tally(show.state, pid) for pid in ("p1", "p2", "p3")] == ["off", "program", "program"]
    assert show.statuses() == {"s1": "done", "s2": "on_air", "s3": "queued"}
    assert show.state["segments"]["s1"]["actual_end"] == show.now
    assert show.state["segments"]["s2"]["actual_start"] == show.now
    assert show.state["preview"] == {"segment": None, "presenters": []}


def test_take_of_an_ad_hoc_preview_keeps_the_segment_running():
    show = live_show()
    show.do("next")
    show.do("take")
    show.do("set_preview", presenters=["p1", "p5"])
    assert show.statuses()["s1"] == "on_air"
    happenings = show.do("take")
    assert happenings[0]["chapter"] == "Ada, Eli" and happenings[0]["segment"] is None
    assert show.on_air() == ["p1", "p5"] and show.statuses()["s1"] == "on_air"


def test_set_preview_returns_a_standby_segment_to_the_queue():
    show = live_show()
    show.do("next")
    show.do("set_preview", presenters=["p4"])
    assert show.statuses()["s1"] == "queued"
    assert show.state["preview"] == {"segment": None, "presenters": ["p4"]}


def test_take_with_nothing_in_preview_is_refused():
    show = live_show()
    assert show.refused("take").code == "empty_preview"


def test_set_preview_of_an_unknown_presenter_names_the_item():
    show = live_show()
    refusal = show.refused("set_preview", presenters=["p1", "p9"])
    assert (refusal.code, refusal.field) == ("unknown_presenter", "presenters[1]")


def test_at_most_the_allowed_lines_go_on_air():
    show = live_show()
    for line in ("p1", "p2", "p3", "p4"):
        show.do("set_on_air", line=line, on_air=True)
    assert len(show.on_air()) == MAX_LINES_ON_AIR
    refusal = show.refused("set_on_air", line="p5", on_air=True)
    assert (refusal.code, refusal.field) == ("too_many_on_air", "line")
    show.do("set_on_air", line="p1", on_air=False)
    show.do("set_on_air", line="p5", on_air=True)
    assert show.on_air() == ["p2", "p3", "p4", "p5"]


def test_an_unknown_line_is_refused_naming_the_field():
    show = live_show()
    refusal = show.refused("set_gain", line="zz", gain_db=1.0)
    assert (refusal.code, refusal.field) == ("unknown_line", "line")


def test_send_to_green_room_takes_a_presenter_off_air_and_out_of_preview():
    show = live_show()
    show.do("set_on_air", line="p1", on_air=True)
    show.do("set_preview", presenters=["p2", "p3"])
    assert show.do("send_to_green_room", presenter="p1") == [{"type": "green_room", "presenter": "p1"}]
    show.do("send_to_green_room", presenter="p2")
    assert show.on_air() == [] and show.state["preview"]["presenters"] == ["p3"]


def test_a_dropped_presenter_comes_back_to_the_green_room_not_to_air():
    show = live_show()
    show.do("set_presence", presenter="p2", connected=True, role="system")
    show.do("set_ready", presenter="p2", ready=True, role="presenter", actor="presenter:p2")
    show.do("next")
    show.do("take")
    show.do("next")
    show.do("take")
    assert show.on_air() == ["p2", "p3"]
    show.do("set_presence", presenter="p2", connected=False, role="system")
    assert show.on_air() == ["p3"] and show.state["presenters"]["p2"]["ready"] is False
    show.do("set_presence", presenter="p2", connected=True, role="presenter", actor="presenter:p2")
    assert show.on_air() == ["p3"]
    assert show.state["presenters"]["p2"]["connected"] is True and tally(show.state, "p2") == "off"


def test_presence_of_a_presenter_who_was_never_connected_leaves_a_dial_in_line_alone():
    show = live_show()
    show.do("set_on_air", line="p4", on_air=True)
    show.do("set_presence", presenter="p4", connected=False, role="system")
    assert show.on_air() == ["p4"]


def test_a_dropped_presenter_leaves_the_preview():
    show = live_show()
    show.do("set_presence", presenter="p1", connected=True, role="system")
    show.do("next")
    show.do("set_presence", presenter="p1", connected=False, role="system")
    assert show.state["preview"] == {"segment": "s1", "presenters": []}


def test_check_in_and_ready_are_absolute():
    show = Show()
    show.do("set_check_in", presenter="p3", checked_in=True)
    show.do("set_ready", presenter="p3", ready=True)
    assert show.state["presenters"]["p3"] == {
        "name": "Cem",
        "line": "p3",
        "connected": False,
        "checked_in": True,
        "ready": True,
        "status": "ok",
    }
    version = show.state["version"]
    show.do("set_ready", presenter="p3", ready=True)
    assert show.state["version"] == version


def test_line_health_is_a_fact_applied_in_every_phase():
    show = Show()
    show.do("set_line_health", line="p1", health="faulted", role="mixer")
    show.do("go_live")
    show.do("end_show")
    show.do("set_line_health", line="p1", health="ok", role="mixer")
    assert show.state["lines"]["p1"]["health"] == "ok"


def test_gain_is_stored_as_a_float():
    show = live_show()
    show.do("set_gain", line="p1", gain_db=-12)
    assert show.state["lines"]["p1"]["gain_db"] == -12.0 and isinstance(show.state["lines"]["p1"]["gain_db"], float)
    assert machine.audible_gains(show.state)["p1"] is None


def test_the_back_channel_status_is_the_presenters_own_and_absolute():
    show = Show()
    happenings = show.do("set_status", presenter="p2", status="audio_problem", role="presenter", actor="presenter:p2")
    assert happenings == [{"type": "presenter", "presenter": "p2", "status": "audio_problem"}]
    assert show.state["presenters"]["p2"]["status"] == "audio_problem"
    show.do("set_status", presenter="p2", status="ok")  # a producer clears it once solved
    assert show.state["presenters"]["p2"]["status"] == "ok"


def test_a_line_source_switches_between_the_browser_and_an_encoder():
    show = Show()
    show.do("set_line_source", line="p1", source="srt://encoder.example:9000", format="mpegts")
    assert (show.state["lines"]["p1"]["source"], show.state["lines"]["p1"]["format"]) == (
        "srt://encoder.example:9000",
        "mpegts",
    )
    show.do("set_line_source", line="p1", source=None)
    assert (show.state["lines"]["p1"]["source"], show.state["lines"]["p1"]["format"]) == (None, None)
    assert show.refused("set_line_source", line="p9", source=None).code == "unknown_line"
