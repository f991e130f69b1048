"""The stage's own views of its state (tally, current and next segment, cue order) on the cases
the pages' module is tested on too (tests/js/stage-views.test.js): one set of rules, whichever
side runs it. The clocks' views exist on the pages only; the JS test holds them to the same file."""

import json
from pathlib import Path

import pytest

from stage.cues import latest_cues, unacknowledged
from stage.rundown import next_segment
from stage.state import current_segment, on_air_presenters, tally

CASES = json.loads((Path(__file__).parents[1] / "js" / "stage-views.cases.json").read_text())
STATES = CASES["states"]
# Each view as the cases name it, and how a case's inputs reach it.
VIEWS = {
    "tally": lambda case: tally(STATES[case["state"]], case["presenter"]),
    "on_air_presenters": lambda case: on_air_presenters(STATES[case["state"]]),
    "current_segment": lambda case: current_segment(STATES[case["state"]]),
    "next_segment": lambda case: next_segment(STATES[case["state"]]),
    "latest_cues": lambda case: latest_cues(STATES[case["state"]]),
    "unacknowledged": lambda case: unacknowledged(STATES[case["state"]]),
}
# Views only the pages have (clocks and how they are written): their cases are the JS test's.
PAGE_ONLY = {"show_clock", "segment_timer", "clock_level", "format_clock"}


def test_every_view_in_the_cases_is_checked_here():
    assert set(CASES) - {"about", "states"} == set(VIEWS) | PAGE_ONLY


@pytest.mark.parametrize(
    ("view", "case"),
    [(view, case) for view in VIEWS for case in CASES[view]],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_the_stage_derives_what_the_cases_expect(view, case):
    assert VIEWS[view](case) == case["expected"]
