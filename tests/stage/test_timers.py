"""The show clock, the segment countdown and the planned-versus-actual run report."""

from stage.timers import run_report, segment_timer, show_clock
from tests.stage.show import START, Show


def test_the_show_clock_runs_from_go_live_and_stops_at_the_end():
    show = Show()
    assert show_clock(show.state, START + 100) == 0.0
    show.do("go_live")  # at START + 1
    assert show_clock(show.state, START + 61) == 60.0
    show.do("end_show", after=99)  # at START + 100
    assert show_clock(show.state, START + 500) == 99.0


def test_the_rehearsal_clock_runs_from_the_rehearsal_start():
    show = Show()
    show.do("start_rehearsal")
    assert show_clock(show.state, START + 31) == 30.0


def test_the_segment_countdown_warns_then_turns_into_overrun():
    show = Show()
    show.do("go_live")
    assert segment_timer(show.state, START + 10) is None
    show.do("next")
    show.do("take")  # s1 (300 s planned) starts at START + 3
    assert segment_timer(show.state, START + 103) == {
        "segment": "s1",
        "elapsed": 100.0,
        "remaining": 200.0,
        "overrun": False,
        "level": "ok",
    }
    assert segment_timer(show.state, START + 243)["level"] == "warn"  # the last minute of five
    assert segment_timer(show.state, START + 313) == {
        "segment": "s1",
        "elapsed": 310.0,
        "remaining": -10.0,
        "overrun": True,
        "level": "over",
    }


def test_run_report_lists_planned_beside_actual():
    show = Show()
    show.do("go_live")  # START + 1
    show.do("skip_segment", segment="s2", skipped=True)  # START + 2
    show.do("next")  # START + 3
    show.do("take", after=7)  # START + 10: s1 starts
    show.do("next", after=300)  # START + 310
    show.do("take", after=20)  # START + 330: s1 ends 320 s in, s3 starts
    show.do("end_show", after=100)  # START + 430
    assert run_report(show.state) == [
        {
            "segment": "s1",
            "title": "Welcome",
            "status": "done",
            "planned_start": START + 1,
            "planned_seconds": 300,
            "actual_start": START + 10,
            "actual_end": START + 330,
            "actual_seconds": 320.0,
            "over_seconds": 20.0,
        },
        {
            "segment": "s2",
            "title": "Panel",
            "status": "skipped",
            "planned_start": None,
            "planned_seconds": 600,
            "actual_start": None,
            "actual_end": None,
            "actual_seconds": None,
            "over_seconds": None,
        },
        {
            "segment": "s3",
            "title": "Demo",
            "status": "done",
            "planned_start": START + 301,
            "planned_seconds": 120,
            "actual_start": START + 330,
            "actual_end": START + 430,
            "actual_seconds": 100.0,
            "over_seconds": -20.0,
        },
    ]
