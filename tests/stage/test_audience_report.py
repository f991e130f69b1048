"""The event's report and its download hold the audience's questions with their upvotes and the
polls with their answers, read from the stage's state (events never imports the stage)."""

import csv
import io

import pytest

from events import audience_report
from stage.models import StageState
from tests.factories import make_event, make_producer
from tests.stage.show import Show

pytestmark = [pytest.mark.both_modes, pytest.mark.django_db]


@pytest.fixture
def event():
    show = Show()
    show.do("ask_question", text="Slides?", name="Vera", role="viewer", actor="registration:1")
    show.do("ask_question", text="=HYPERLINK(\"x\")", role="viewer", actor="registration:2")
    show.do("ask_question", text="Ignored", role="viewer", actor="registration:3")
    show.do("set_question_status", question="q1", status="answered")
    show.do("set_question_status", question="q3", status="dismissed")
    show.do("add_poll", question="Which city?", options=["Oslo", "Lyon", "Graz"])
    show.do("add_poll", question="Never opened", options=["a", "b"])
    show.do("set_poll_status", poll="v4", status="open")
    show.do("set_votes", role="system", actor="system:votes", questions={"q1": 1, "q2": 4}, polls={"v4": [1, 0, 3]})
    show.do("set_poll_status", poll="v4", status="closed")
    event = make_event("town-hall", title="Town hall")
    StageState.objects.create(event=event, version=show.state["version"], document=show.state,
                              initial_document=show.state)
    return event


def test_the_report_lists_questions_by_upvotes_and_the_polls_that_were_opened(event):
    assert audience_report.questions(event) == [
        audience_report.QuestionLine('=HYPERLINK("x")', "", "pending", 4),
        audience_report.QuestionLine("Slides?", "Vera", "answered", 1),
        audience_report.QuestionLine("Ignored", "", "dismissed", 0),
    ]
    assert audience_report.polls(event) == [
        audience_report.PollLine("Which city?", "closed", 4, [
            audience_report.PollOption("Oslo", 1, 25), audience_report.PollOption("Lyon", 0, 0),
            audience_report.PollOption("Graz", 3, 75)]),
    ]


def test_an_event_nobody_started_has_nothing_to_report():
    event = make_event("quiet")
    assert (audience_report.questions(event), audience_report.polls(event)) == ([], [])


def test_the_report_page_and_its_csv_show_them_to_producers_only(client, event):
    make_producer(event, username="organiser")
    assert client.get("/e/town-hall/report/questions-and-polls.csv")["Location"].startswith("/accounts/login/")
    client.login(username="organiser", password="a-test-password-1")
    page = client.get("/e/town-hall/report/").content.decode()
    assert "<th>Graz</th><td>3</td><td>75 %</td>" in page
    assert "<td>Slides?</td><td>Vera</td><td>answered</td><td>1</td>" in page
    assert "Never opened" not in page
    download = client.get("/e/town-hall/report/questions-and-polls.csv")
    assert download["Content-Disposition"] == 'attachment; filename="town-hall-questions-and-polls.csv"'
    rows = list(csv.reader(io.StringIO(download.content.decode().lstrip("\ufeff"))))
    assert rows == [
        ["Kind", "Text", "Asked by / option", "Status", "Upvotes / answers"],
        ["question", "'=HYPERLINK(\"x\")", "", "pending", "4"],
        ["question", "Slides?", "Vera", "answered", "1"],
        ["question", "Ignored", "", "dismissed", "0"],
        ["poll", "Which city?", "Oslo", "closed", "1"],
        ["poll", "Which city?", "Lyon", "closed", "0"],
        ["poll", "Which city?", "Graz", "closed", "3"],
    ]
    make_producer(make_event("other"), username="stranger")
    client.login(username="stranger", password="a-test-password-1")
    assert client.get("/e/town-hall/report/questions-and-polls.csv").status_code == 403
