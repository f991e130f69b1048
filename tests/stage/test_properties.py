"""Property tests over random command sequences: the version only rises, never more lines on air
than the mix allows, the run-of-show stays consistent, deltas rebuild each state, and replaying
the accepted commands rebuilds the final state exactly."""

from hypothesis import given, settings
from hypothesis import strategies as st

from stage import machine
from stage.contract.commands import COMMANDS, FACT_ROLES, PRESENTER, presenter_actor, validate_command
from stage.delta import apply_delta, diff
from stage.state import MAX_LINES_ON_AIR, ON_AIR, STANDBY
from tests.stage.show import PRESENTERS, START, initial

# Ids that exist, ids the machine makes later, and ids that never exist.
PRESENTER_IDS = [*PRESENTERS, "p9"]
SEGMENT_IDS = ["s1", "s2", "s3", "n1", "n2", "n3", "s9"]
CUE_IDS = ["c1", "c2", "c3", "c4"]
QUESTION_IDS = ["q1", "q2", "q3"]
DECK_IDS = ["d1", "d2"]
POLL_IDS = ["v1", "v2", "v3", "v4"]

presenter = st.sampled_from(PRESENTER_IDS)
segment = st.sampled_from(SEGMENT_IDS)
presenters = st.lists(st.sampled_from(PRESENTER_IDS), max_size=MAX_LINES_ON_AIR, unique=True)

FIELDS = {
    "set_hold": {"hold": st.booleans()},
    "set_fallback": {"source": st.sampled_from(["hold_music", "slate_tone"])},
    "set_on_air": {"line": presenter, "on_air": st.booleans()},
    "set_mute": {"line": presenter, "muted": st.booleans()},
    "set_gain": {"line": presenter, "gain_db": st.floats(-60, 12)},
    "set_line_health": {"line": presenter, "health": st.sampled_from(["connecting", "ok", "silent", "faulted"])},
    "set_output_health": {"health": st.sampled_from(["ok", "disk_full"]), "dropped": st.integers(0, 100)},
    "set_preview": {"presenters": presenters},
    "send_to_green_room": {"presenter": presenter},
    "set_talkback": {"presenters": presenters, "all": st.booleans()},
    "set_backstage": {"presenter": presenter, "open": st.booleans()},
    "set_check_in": {"presenter": presenter, "checked_in": st.booleans()},
    "set_ready": {"presenter": presenter, "ready": st.booleans()},
    "set_presence": {"presenter": presenter, "connected": st.booleans()},
    "set_status": {"presenter": presenter, "status": st.sampled_from(["ok", "audio_problem", "dropping_off"])},
    "set_line_source": {"line": presenter, "source": st.none() | st.just("srt://encoder.example:9000")},
    "send_question": {"question": st.sampled_from(QUESTION_IDS), "presenter": presenter},
    "add_segment": {
        "title": st.sampled_from(["Q&A", "Break"]),
        "presenters": presenters,
        "planned_seconds": st.integers(1, 900),
        "before": st.none() | segment,
    },
    "update_segment": {"segment": segment, "title": st.just("Renamed")},
    "remove_segment": {"segment": segment},
    "move_segment": {"segment": segment, "before": st.none() | segment},
    "skip_segment": {"segment": segment, "skipped": st.booleans()},
    "standby": {"segment": segment},
    "cue": {"to": st.sampled_from(["all", *PRESENTER_IDS]), "kind": st.sampled_from(["standby", "on"])},
    "ack_cue": {"cue": st.sampled_from(CUE_IDS), "presenter": presenter},
    "clear_cue": {"cue": st.sampled_from(CUE_IDS)},
    "message": {"presenter": presenter, "text": st.just("hello")},
    "ask_question": {"text": st.just("Why?")},
    "set_question_status": {
        "question": st.sampled_from(QUESTION_IDS),
        "status": st.sampled_from(["pending", "approved", "dismissed", "answered", "on_screen"]),
    },
    "show_slide": {"deck": st.none() | st.sampled_from(DECK_IDS), "page": st.integers(1, 4)},
    "set_presenter_slides": {"allowed": st.booleans()},
    "set_deck": {
        "deck": st.sampled_from(DECK_IDS),
        "title": st.just("Deck"),
        "pages": st.integers(1, 3),
        "files": st.just("d-f00d"),
        "presenter": st.none() | presenter,
        "segment": st.none() | segment,
    },
    "remove_deck": {"deck": st.sampled_from(DECK_IDS)},
    "add_poll": {"question": st.just("Which?"), "options": st.sampled_from([["a", "b"], ["a", "b", "c"]])},
    "set_poll_status": {"poll": st.sampled_from(POLL_IDS), "status": st.sampled_from(["open", "closed"])},
    "show_poll_results": {"poll": st.sampled_from(POLL_IDS), "shown": st.booleans()},
    "remove_poll": {"poll": st.sampled_from(POLL_IDS)},
    "set_off_air_alarm": {
        "alarm": st.sampled_from(["dead_air", "stalled", "monitor_down"]),
        "active": st.booleans(),
        "detail": st.just("found"),
    },
    "set_votes": {
        "questions": st.dictionaries(st.sampled_from(QUESTION_IDS), st.integers(0, 5)),
        "polls": st.dictionaries(st.sampled_from(POLL_IDS), st.lists(st.integers(0, 5), min_size=2, max_size=3)),
    },
}


@st.composite
def commands(draw):
    type_ = draw(st.sampled_from(sorted(COMMANDS)))
    fields = {name: draw(strategy) for name, strategy in FIELDS.get(type_, {}).items()}
    role = sorted(COMMANDS[type_].roles)[0]
    actor = presenter_actor(fields.get("presenter") or draw(presenter)) if role == PRESENTER else f"{role}:x"
    envelope = {} if role in FACT_ROLES else {"version": 0, "client_id": "x"}
    command = validate_command({"type": type_} | envelope | fields, role)
    return command, role, actor


def check_invariants(state: dict) -> None:
    assert sum(line["on_air"] for line in state["lines"].values()) <= MAX_LINES_ON_AIR
    assert sorted(state["rundown"]) == sorted(state["segments"])
    statuses = [segment["status"] for segment in state["segments"].values()]
    assert statuses.count(ON_AIR) <= 1 and statuses.count(STANDBY) <= 1
    if state["preview"]["segment"] is not None:
        assert state["segments"][state["preview"]["segment"]]["status"] == STANDBY
    assert set(state["preview"]["presenters"]) <= set(state["presenters"])
    assert sum(q["status"] == "on_screen" for q in state["questions"].values()) <= 1
    assert sum(poll["status"] == "open" for poll in state["polls"].values()) <= 1
    assert all(len(poll["counts"]) == len(poll["options"]) for poll in state["polls"].values())
    if state["phase"] == "ended":
        assert not any(line["on_air"] for line in state["lines"].values())
        assert state["talkback"] == {}
    # The slide on screen is a page of a deck on the stage.
    slide = state["slide"]
    assert slide is None or 1 <= slide["page"] <= state["decks"][slide["deck"]]["pages"]
    # Backstage is opened only to presenters on air, and closes when they leave it.
    assert all(state["lines"][state["presenters"][pid]["line"]]["on_air"] for pid in state["backstage_open"])


# Lines going on air, often enough to press against the limit.
on_air = st.builds(
    lambda line: (
        {"type": "set_on_air", "line": line, "on_air": True, "version": 0, "client_id": "x"},
        "producer",
        "u",
    ),
    presenter,
)
steps = st.one_of(commands(), on_air, st.sampled_from(["go_live", "start_rehearsal", "next", "take"]))


@settings(max_examples=300, deadline=None)
@given(st.lists(steps, max_size=40))
def test_random_command_sequences_keep_the_stage_consistent(steps):
    state = initial()
    accepted = []
    now = START
    for step in steps:
        command, role, actor = (
            ({"type": step, "version": 0, "client_id": "x"}, "producer", "user:p") if isinstance(step, str) else step
        )
        now += 1.5
        try:
            new_state, happenings = machine.apply(state, command, now=now, actor=actor, role=role)
        except machine.CommandRefused as refusal:
            assert refusal.code and refusal.message
            continue
        if new_state is state:
            assert happenings == []
            continue
        assert new_state["version"] == state["version"] + 1
        assert new_state != state
        assert apply_delta(state, diff(state, new_state), new_state["version"]) == new_state
        check_invariants(new_state)
        accepted.append((command, now, actor, role))
        state = new_state

    replayed = initial()
    for command, at, actor, role in accepted:
        replayed, _ = machine.apply(replayed, command, now=at, actor=actor, role=role)
    assert replayed == state
    assert state["version"] == len(accepted)
