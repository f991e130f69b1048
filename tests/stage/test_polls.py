"""Polls, viewers' votes and what each audience sees of the Q&A, in the pure machine."""

from stage.contract.commands import validate_command
from stage.contract.errors import ProtocolError
from stage.polls import in_play
from stage.projections import asked_by, audience_view, console_view, greenroom_view
from tests.stage.show import START, Show


def poll_show() -> Show:
    show = Show()
    show.do("add_poll", question="Which city?", options=["Oslo", "Lyon", "Graz"])
    return show


def test_a_poll_is_prepared_as_a_draft_with_a_count_per_option():
    show = poll_show()
    assert show.state["polls"]["v1"] == {
        "question": "Which city?", "options": ["Oslo", "Lyon", "Graz"], "counts": [0, 0, 0], "status": "draft",
        "results_shown": False, "opened_at": None, "closed_at": None,
    }


def test_opening_a_poll_closes_the_open_one():
    show = poll_show()
    show.do("add_poll", question="Tea or coffee?", options=["Tea", "Coffee"])
    show.do("set_poll_status", poll="v1", status="open")
    happenings = show.do("set_poll_status", poll="v2", status="open")
    assert happenings == [
        {"type": "poll", "poll": "v1", "status": "closed"},
        {"type": "poll", "poll": "v2", "status": "open"},
    ]
    assert {pid: p["status"] for pid, p in show.state["polls"].items()} == {"v1": "closed", "v2": "open"}
    assert show.state["polls"]["v1"]["closed_at"] == START + 4  # the fourth command, a second apart
    assert in_play(show.state) == "v2"


def test_a_draft_cannot_close_nor_show_results_and_only_a_draft_is_removed():
    show = poll_show()
    assert show.refused("set_poll_status", poll="v1", status="closed").code == "not_open"
    assert show.refused("show_poll_results", poll="v1", shown=True).code == "not_open"
    assert show.refused("set_poll_status", poll="v9", status="open").code == "unknown_poll"
    show.do("set_poll_status", poll="v1", status="open")
    assert show.refused("remove_poll", poll="v1").code == "not_draft"
    show.do("add_poll", question="Spare", options=["a", "b"])
    assert show.do("remove_poll", poll="v2") == [{"type": "poll", "poll": "v2", "removed": True}]
    assert list(show.state["polls"]) == ["v1"]


def test_a_poll_needs_two_to_eight_different_options():
    def refusal(options):
        try:
            validate_command({"type": "add_poll", "version": 0, "client_id": "x", "question": "Q?", "options": options})
        except ProtocolError as error:
            return error.code, error.field
        return None

    assert refusal(["only"]) == ("out_of_range", "options")
    assert refusal(["a", "a"]) == ("out_of_range", "options")
    assert refusal([str(n) for n in range(9)]) == ("out_of_range", "options")
    assert refusal(["a", " "]) == ("out_of_range", "options[1]")
    assert refusal(["a", "b"]) is None


def test_votes_are_set_as_counted_and_a_recount_that_changes_nothing_makes_no_version():
    show = poll_show()
    show.do("ask_question", text="Why?", role="viewer", actor="registration:3")
    show.do("set_poll_status", poll="v1", status="open")
    version = show.state["version"]
    happenings = show.do("set_votes", role="system", actor="system:votes",
                         questions={"q2": 4, "q99": 1}, polls={"v1": [1, 0, 2], "v7": [1, 1]})
    assert happenings == [{"type": "votes", "questions": ["q2"], "polls": ["v1"]}]
    assert show.state["questions"]["q2"]["votes"] == 4 and show.state["polls"]["v1"]["counts"] == [1, 0, 2]
    assert show.state["version"] == version + 1
    again = show.do("set_votes", role="system", actor="system:votes", questions={"q2": 4}, polls={"v1": [1, 0, 2]})
    assert again == [] and show.state["version"] == version + 1
    # Counts that do not fit the poll's options are not taken.
    show.do("set_votes", role="system", actor="system:votes", questions={}, polls={"v1": [5, 5]})
    assert show.state["polls"]["v1"]["counts"] == [1, 0, 2]


def test_who_asked_is_kept_for_their_own_list_and_shown_to_no_audience():
    show = Show()
    show.do("ask_question", text="Mine?", name="Kim", role="viewer", actor="registration:7")
    show.do("ask_question", text="Theirs?", role="viewer", actor="registration:8")
    show.do("ask_question", text="From the desk", role="producer", actor="user:pat")
    assert [q["asker"] for q in show.state["questions"].values()] == [7, 8, None]
    assert asked_by(show.state, 7) == [{"id": "q1", "text": "Mine?", "status": "pending", "votes": 0}]
    assert all("asker" not in q for q in console_view(show.state)["questions"].values())
    assert "questions" not in greenroom_view(show.state)
    assert "asker" not in str(audience_view(show.state))


def test_the_audience_sees_questions_let_through_most_upvoted_first_and_poll_results_once_shown():
    show = poll_show()
    for text in ("First", "Second", "Third", "Hidden"):
        show.do("ask_question", text=text, name="Vi", role="viewer", actor="registration:1")
    for qid in ("q2", "q3", "q4"):
        show.do("set_question_status", question=qid, status="approved")
    show.do("set_question_status", question="q4", status="on_screen")
    show.do("set_votes", role="system", actor="system:votes", questions={"q3": 2, "q4": 2, "q2": 1}, polls={})
    view = audience_view(show.state)
    assert [(q["id"], q["votes"], q["status"]) for q in view["questions"]] == [
        ("q3", 2, "approved"), ("q4", 2, "on_screen"), ("q2", 1, "approved")]
    assert view["questions"][0] == {"id": "q3", "text": "Second", "status": "approved", "votes": 2, "name": "Vi"}
    assert view["poll"] is None  # a draft is not in play
    show.do("set_poll_status", poll="v1", status="open")
    show.do("set_votes", role="system", actor="system:votes", questions={}, polls={"v1": [3, 1, 0]})
    assert audience_view(show.state)["poll"] == {
        "id": "v1", "question": "Which city?", "options": ["Oslo", "Lyon", "Graz"], "status": "open", "results": None}
    show.do("set_poll_status", poll="v1", status="closed")
    assert audience_view(show.state)["poll"] is None  # closed, results not shown: nothing in play
    show.do("show_poll_results", poll="v1", shown=True)
    assert audience_view(show.state)["poll"]["results"] == [3, 1, 0]
