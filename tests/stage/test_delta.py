"""Deltas carry what changed, one record deep, and rebuild the new state exactly."""

from stage.delta import apply_delta, diff


def test_a_delta_names_changed_records_not_whole_collections():
    old = {"version": 4, "phase": "live", "lines": {"p1": {"on_air": False}, "p2": {"on_air": False}}, "rundown": ["a"]}
    new = {"version": 5, "phase": "live", "lines": {"p1": {"on_air": True}, "p2": {"on_air": False}}, "rundown": ["a"]}
    assert diff(old, new) == {"set": {"lines.p1": {"on_air": True}}, "unset": []}
    assert apply_delta(old, diff(old, new), 5) == new


def test_removed_records_and_keys_are_unset_and_lists_replaced_whole():
    old = {"version": 1, "cues": {"c1": {}, "c2": {}}, "rundown": ["a", "b"], "gone": 1}
    new = {"version": 2, "cues": {"c2": {}, "c3": {"k": 1}}, "rundown": ["b", "a"]}
    delta = diff(old, new)
    assert delta == {"set": {"cues.c3": {"k": 1}, "rundown": ["b", "a"]}, "unset": ["cues.c1", "gone"]}
    assert apply_delta(old, delta, 2) == new
    assert old["cues"] == {"c1": {}, "c2": {}}  # the input is left alone

