"""The run-of-show: insert, update, remove, reorder, skip, standby and "next"."""

from tests.stage.show import Show


def test_add_segment_appends_or_inserts_before_another_with_a_fresh_id():
    show = Show()
    assert show.do("add_segment", title="Q&A", presenters=["p5"], planned_seconds=240) == [
        {"type": "segment", "segment": "n1", "added": True}
    ]
    show.do("add_segment", title="Intro", presenters=[], planned_seconds=60, before="s1")
    assert show.state["rundown"] == ["n2", "s1", "s2", "s3", "n1"]
    assert show.state["segments"]["n1"] == {
        "title": "Q&A",
        "presenters": ["p5"],
        "planned_seconds": 240,
        "status": "queued",
        "actual_start": None,
        "actual_end": None,
    }


def test_add_segment_with_unknown_presenter_or_anchor_is_refused():
    show = Show()
    assert show.refused("add_segment", title="X", presenters=["p7"], planned_seconds=60).field == "presenters[0]"
    refusal = show.refused("add_segment", title="X", presenters=[], planned_seconds=60, before="s9")
    assert (refusal.code, refusal.field) == ("unknown_segment", "before")


def test_move_segment_places_it_before_another_or_last():
    show = Show()
    show.do("move_segment", segment="s3", before="s1")
    assert show.state["rundown"] == ["s3", "s1", "s2"]
    show.do("move_segment", segment="s3", before=None)
    assert show.state["rundown"] == ["s1", "s2", "s3"]
    version = show.state["version"]
    show.do("move_segment", segment="s3", before=None)  # re-sent: nothing changes
    assert show.state["version"] == version
    assert show.refused("move_segment", segment="s2", before="s2").code == "invalid_move"


def test_update_segment_changes_the_preview_of_a_standby_segment():
    show = Show()
    show.do("next")
    show.do("update_segment", segment="s1", presenters=["p1", "p5"], planned_seconds=420)
    assert show.state["preview"] == {"segment": "s1", "presenters": ["p1", "p5"]}
    assert show.state["segments"]["s1"]["planned_seconds"] == 420


def test_remove_segment_only_before_it_started():
    show = Show()
    show.do("go_live")
    show.do("next")
    show.do("remove_segment", segment="s1")
    assert show.state["rundown"] == ["s2", "s3"] and "s1" not in show.state["segments"]
    assert show.state["preview"] == {"segment": None, "presenters": []}
    show.do("next")
    show.do("take")
    refusal = show.refused("remove_segment", segment="s2")
    assert (refusal.code, refusal.field) == ("segment_started", "segment")


def test_skip_and_unskip_and_next_passes_skipped_segments():
    show = Show()
    show.do("go_live")
    show.do("skip_segment", segment="s1", skipped=True)
    show.do("next")
    assert show.statuses() == {"s1": "skipped", "s2": "standby", "s3": "queued"}
    show.do("skip_segment", segment="s1", skipped=False)
    assert show.statuses()["s1"] == "queued"


def test_next_twice_moves_standby_along_and_wraps_to_earlier_queued_segments():
    show = Show()
    show.do("next")
    show.do("next")
    assert show.statuses() == {"s1": "queued", "s2": "standby", "s3": "queued"}
    show.do("next")
    assert show.statuses() == {"s1": "queued", "s2": "queued", "s3": "standby"}
    show.do("next")
    assert show.statuses() == {"s1": "standby", "s2": "queued", "s3": "queued"}


def test_next_at_the_end_of_the_run_of_show_is_refused():
    show = Show()
    show.do("go_live")
    for _ in range(3):
        show.do("next")
        show.do("take")
    assert show.statuses() == {"s1": "done", "s2": "done", "s3": "on_air"}
    assert show.refused("next").code == "end_of_rundown"


def test_standby_of_a_done_segment_is_refused():
    show = Show()
    show.do("go_live")
    show.do("next")
    show.do("take")
    show.do("next")
    show.do("take")
    refusal = show.refused("standby", segment="s1")
    assert (refusal.code, refusal.field) == ("not_queued", "segment")


def test_ending_the_show_closes_the_segment_on_air():
    show = Show()
    show.do("go_live")
    show.do("next")
    show.do("take")
    show.do("end_show", after=30)
    assert show.statuses()["s1"] == "done"
    assert show.state["segments"]["s1"]["actual_end"] == show.now
