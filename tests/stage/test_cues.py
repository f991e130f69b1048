"""Cues and their acknowledgements, the private chat, and Q&A moderation."""

from stage.cues import unacknowledged
from stage.projections import conversation
from tests.stage.show import START, Show


def test_a_cue_to_all_waits_for_every_presenter_to_acknowledge():
    show = Show()
    assert show.do("cue", to="all", kind="wrap_up", seconds=30) == [
        {"type": "cue", "cue": "c1", "to": "all", "kind": "wrap_up"}
    ]
    assert show.state["cues"]["c1"] == {
        "kind": "wrap_up",
        "to": "all",
        "text": "",
        "seconds": 30,
        "sent_at": START + 1,
        "by": "user:pat",
        "acks": {},
    }
    show.do("ack_cue", cue="c1", presenter="p2", role="presenter", actor="presenter:p2")
    assert unacknowledged(show.state) == {"p1": "c1", "p3": "c1", "p4": "c1", "p5": "c1"}


def test_the_newest_cue_is_the_one_that_counts():
    show = Show()
    show.do("cue", to="p1", kind="standby")
    show.do("cue", to="p1", kind="on")
    assert unacknowledged(show.state) == {"p1": "c2"}
    show.do("ack_cue", cue="c2", presenter="p1", role="presenter", actor="presenter:p1")
    assert unacknowledged(show.state) == {}


def test_acknowledging_a_cue_sent_to_someone_else_is_refused():
    show = Show()
    show.do("cue", to="p1", kind="custom", text="Smile")
    refusal = show.refused("ack_cue", cue="c1", presenter="p2")
    assert (refusal.code, refusal.field) == ("not_recipient", "presenter")
    assert show.refused("ack_cue", cue="c7", presenter="p1").code == "unknown_cue"


def test_an_acknowledgement_keeps_its_first_time():
    show = Show()
    show.do("cue", to="p1", kind="on")
    show.do("ack_cue", cue="c1", presenter="p1", role="presenter")
    version = show.state["version"]
    show.do("ack_cue", cue="c1", presenter="p1", role="presenter")
    assert show.state["version"] == version and show.state["cues"]["c1"]["acks"] == {"p1": START + 2}


def test_cues_are_bounded_and_cleared():
    show = Show()
    for _ in range(55):
        show.do("cue", to="p1", kind="on")
    assert len(show.state["cues"]) == 50 and min(show.state["cues"], key=lambda c: int(c[1:])) == "c6"
    show.do("clear_cue", cue="c55")
    assert "c55" not in show.state["cues"] and unacknowledged(show.state) == {"p1": "c54"}


def test_cue_to_an_unknown_presenter_is_refused():
    show = Show()
    refusal = show.refused("cue", to="p9", kind="on")
    assert (refusal.code, refusal.field) == ("unknown_presenter", "to")


def test_the_chat_records_who_wrote_and_each_presenter_sees_their_own():
    show = Show()
    show.do("message", presenter="p1", text="Two minutes")
    show.do("message", presenter="p2", text="Hi Bea")
    show.do("message", presenter="p1", text="Ready", role="presenter", actor="presenter:p1")
    assert conversation(show.state, "p1") == [
        {"id": "m1", "presenter": "p1", "from": "producer", "by": "user:pat", "text": "Two minutes", "at": START + 1},
        {"id": "m3", "presenter": "p1", "from": "presenter", "by": "presenter:p1", "text": "Ready", "at": START + 3},
    ]


def test_questions_move_through_moderation_with_one_on_screen():
    show = Show()
    show.do("ask_question", text="When?", name="Vi", role="viewer", actor="registration:7")
    show.do("ask_question", text="Where?", role="viewer", actor="registration:8")
    assert show.state["questions"]["q1"] == {
        "text": "When?", "name": "Vi", "status": "pending", "asked_at": START + 1, "votes": 0, "asker": 7,
    }
    show.do("set_question_status", question="q1", status="approved")
    show.do("set_question_status", question="q1", status="on_screen")
    show.do("set_question_status", question="q2", status="on_screen")
    assert {q: v["status"] for q, v in show.state["questions"].items()} == {"q1": "answered", "q2": "on_screen"}
    assert [q for q, v in show.state["questions"].items() if v["status"] == "on_screen"] == ["q2"]
    show.do("set_question_status", question="q1", status="dismissed")
    assert show.refused("set_question_status", question="q1", status="on_screen").code == "dismissed"
    assert show.refused("set_question_status", question="q8", status="approved").code == "unknown_question"


def test_a_question_pushed_to_a_presenter_joins_their_conversation():
    show = Show()
    show.do("ask_question", text="Will it scale?", name="Kim", role="viewer", actor="viewer")
    show.do("ask_question", text="Spam", role="viewer", actor="viewer")
    show.do("set_question_status", question="q2", status="dismissed")
    happenings = show.do("send_question", question="q1", presenter="p2")
    assert happenings == [{"type": "message", "message": "m3", "presenter": "p2"}]
    assert conversation(show.state, "p2") == [
        {
            "id": "m3",
            "presenter": "p2",
            "from": "producer",
            "by": "user:pat",
            "text": "Will it scale? (Kim)",
            "at": show.now,
            "question": "q1",
        }
    ]
    assert show.refused("send_question", question="q2", presenter="p2").code == "dismissed"
    assert show.refused("send_question", question="q1", presenter="p9").code == "unknown_presenter"
