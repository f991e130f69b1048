"""Viewers' Q&A and polls over HTTP: asking, their own list, the cacheable audience list, upvotes
and poll answers; every bad request gets a clear JSON error and changes nothing."""

import asyncio
import json
import threading

import pytest
from channels.db import database_sync_to_async
from django.test import AsyncClient, Client

from config.django_http import OneHopHandler
from events import ratelimit
from events.registration import register
from stage import store, tally
from stage.broadcast import apply_and_broadcast
from stage.contract.limits import MAX_NAME_LENGTH, MAX_TEXT_LENGTH
from stage.models import PollVote, QuestionVote, StageLogEntry, StageState
from tests.factories import make_event
from tests.stage.busy import shared_thread_held
from tests.stage.sockets import TIMEOUT

pytestmark = [pytest.mark.both_modes, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _recount_at_once(settings):
    """A recount after each vote, in its request, so a test reads the count at once (stage/tally.py)."""
    settings.STAGE_VOTE_TALLY_SECONDS = 0


@pytest.fixture
def event():
    return make_event("launch")


def viewer(event, name: str = "Kim") -> tuple[Client, object]:
    registration = register(event, name=name, email=f"{name.lower()}@example.com")
    client = Client(enforce_csrf_checks=False)
    assert client.get(registration.get_join_url()).status_code == 302
    return client, registration


def post(client: Client, path: str, body) -> tuple[int, dict]:
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    response = client.post(path, data, content_type="application/json")
    return response.status_code, response.json() if response["Content-Type"] == "application/json" else {}


def producer(event, type_: str, **fields) -> dict:
    from asgiref.sync import async_to_sync

    version = store.snapshot(event.pk)["version"]
    command = {"type": type_, "version": version, "client_id": f"{type_}-{version}"} | fields
    outcome = async_to_sync(apply_and_broadcast)(event.pk, command, actor="user:pat", role="producer")
    assert outcome.error is None, outcome.error
    return outcome.state


def state_of(event) -> dict:
    return StageState.objects.get(event=event).document


def test_a_viewer_asks_and_the_question_is_in_the_committed_state_with_who_asked():
    event = make_event("launch")
    client, registration = viewer(event)
    status, body = post(client, "/e/launch/questions/", {"text": "Will it scale?", "name": "Kim"})
    assert (status, body) == (201, {"id": "q1", "status": "pending"})
    question = state_of(event)["questions"]["q1"]
    assert (question["text"], question["name"], question["asker"], question["votes"]) == (
        "Will it scale?", "Kim", registration.pk, 0)
    mine = client.get("/e/launch/questions/mine.json")
    assert mine["Cache-Control"].startswith("max-age=0") and "no-store" in mine["Cache-Control"]
    assert mine.json() == {
        "questions": [{"id": "q1", "text": "Will it scale?", "status": "pending", "votes": 0}],
        "upvoted": [], "answers": {},
    }
    other, _ = viewer(event, "Lou")
    assert other.get("/e/launch/questions/mine.json").json()["questions"] == []


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        ({"text": ""}, 400, "out_of_range", "text"),
        ({"text": "   "}, 400, "out_of_range", "text"),
        ({"text": "x" * 501}, 400, "out_of_range", "text"),
        ({"text": "Why?", "name": "n" * 81}, 400, "out_of_range", "name"),
        ({"text": 5}, 400, "wrong_type", "text"),
        ({}, 400, "missing_field", "text"),
        ({"text": "Why?", "type": "set_question_status"}, 400, "unknown_field", "type"),
        ({"text": "Why?", "version": 3}, 400, "unknown_field", "version"),
        ("not json", 400, "malformed", None),
        ("[1, 2]", 400, "malformed", None),
        (json.dumps({"text": "x" * 5000}), 413, "too_large", None),
    ],
)
def test_a_bad_question_is_refused_clearly_and_changes_nothing(event, body, status, code, field):
    client, _ = viewer(event)
    before = store.snapshot(event.pk)
    answer = post(client, "/e/launch/questions/", body)
    assert answer == (status, {"error": {"code": code, "field": field, "message": answer[1]["error"]["message"]}})
    assert answer[1]["error"]["message"]
    assert store.snapshot(event.pk) == before


def test_without_a_join_session_or_with_another_events_session_nothing_is_asked(event):
    make_event("other")
    other_client, _ = viewer(make_event("third"))
    before = store.snapshot(event.pk)
    for client in (Client(), other_client):
        status, body = post(client, "/e/launch/questions/", {"text": "Hello?"})
        assert (status, body["error"]["code"]) == (403, "no_session")
        assert client.get("/e/launch/questions/mine.json").status_code == 403
        assert post(client, "/e/launch/polls/v1/vote/", {"option": 0})[0] == 403
        assert post(client, "/e/launch/questions/q1/vote/", {})[0] == 403
    assert store.snapshot(event.pk) == before
    assert Client().post("/e/nowhere/questions/", "{}", content_type="application/json").status_code == 404


def test_a_question_after_the_show_ended_is_refused_as_a_conflict(event):
    client, _ = viewer(event)
    producer(event, "go_live")
    producer(event, "end_show")
    before = store.snapshot(event.pk)
    status, body = post(client, "/e/launch/questions/", {"text": "Too late?"})
    assert (status, body["error"]["code"]) == (409, "show_ended")
    assert store.snapshot(event.pk) == before


def test_questions_are_rate_limited_per_viewer(event, monkeypatch):
    monkeypatch.setattr(ratelimit, "QUESTIONS", ratelimit.Limit("question", count=2, seconds=60))
    client, _ = viewer(event)
    assert [post(client, "/e/launch/questions/", {"text": f"Q{n}"})[0] for n in range(2)] == [201, 201]
    before = store.snapshot(event.pk)
    response = client.post("/e/launch/questions/", json.dumps({"text": "Q3"}), content_type="application/json")
    assert (response.status_code, response.json()["error"]["code"]) == (429, "too_fast")
    assert 1 <= int(response["Retry-After"]) <= 60
    assert store.snapshot(event.pk) == before
    other, _ = viewer(event, "Lou")
    assert post(other, "/e/launch/questions/", {"text": "Mine"})[0] == 201


def approved_question(event) -> str:
    asker, _ = viewer(event, "Ada")
    question_id = post(asker, "/e/launch/questions/", {"text": "Approved?", "name": "Ada"})[1]["id"]
    producer(event, "set_question_status", question=question_id, status="approved")
    return question_id


def test_an_upvote_counts_once_per_viewer_and_reaches_the_state(event):
    question_id = approved_question(event)
    client, registration = viewer(event)
    assert post(client, f"/e/launch/questions/{question_id}/vote/", {}) == (200, {"question": question_id,
                                                                                  "voted": True})
    version = store.snapshot(event.pk)["version"]
    assert post(client, f"/e/launch/questions/{question_id}/vote/", {}) == (200, {"question": question_id,
                                                                                  "voted": True})
    assert QuestionVote.objects.filter(registration=registration).count() == 1
    assert state_of(event)["questions"][question_id]["votes"] == 1
    assert store.snapshot(event.pk)["version"] == version  # the second vote made no version
    second, _ = viewer(event, "Lou")
    post(second, f"/e/launch/questions/{question_id}/vote/", {})
    assert state_of(event)["questions"][question_id]["votes"] == 2
    assert client.get("/e/launch/questions/mine.json").json()["upvoted"] == [question_id]


def test_an_upvote_of_a_question_the_audience_does_not_see_or_with_a_body_changes_nothing(event):
    asker, _ = viewer(event, "Ada")
    pending = post(asker, "/e/launch/questions/", {"text": "Pending"})[1]["id"]
    question_id = approved_question(event)
    client, _ = viewer(event)
    before = store.snapshot(event.pk)
    for path, body, status, code in [
        (f"/e/launch/questions/{pending}/vote/", {}, 404, "unknown_question"),
        ("/e/launch/questions/q99/vote/", {}, 404, "unknown_question"),
        (f"/e/launch/questions/{question_id}/vote/", {"votes": 10}, 400, "unknown_field"),
        (f"/e/launch/questions/{question_id}/vote/", "nope", 400, "malformed"),
    ]:
        answer = post(client, path, body)
        assert (answer[0], answer[1]["error"]["code"]) == (status, code), path
    assert not QuestionVote.objects.exists()
    assert store.snapshot(event.pk) == before
    assert client.get(f"/e/launch/questions/{question_id}/vote/").status_code == 405


def open_poll(event) -> str:
    state = producer(event, "add_poll", question="Which city?", options=["Oslo", "Lyon"])
    poll_id = next(iter(state["polls"]))
    producer(event, "set_poll_status", poll=poll_id, status="open")
    return poll_id


def test_a_viewer_answers_the_open_poll_once_and_the_count_reaches_the_state(event):
    poll_id = open_poll(event)
    client, _ = viewer(event)
    assert post(client, f"/e/launch/polls/{poll_id}/vote/", {"option": 1}) == (201, {"poll": poll_id, "voted": True})
    assert state_of(event)["polls"][poll_id]["counts"] == [0, 1]
    before = store.snapshot(event.pk)
    status, body = post(client, f"/e/launch/polls/{poll_id}/vote/", {"option": 0})
    assert (status, body["error"]["code"]) == (409, "already_voted")
    assert store.snapshot(event.pk) == before
    assert PollVote.objects.get().option == 1
    assert client.get("/e/launch/questions/mine.json").json()["answers"] == {poll_id: 1}


def test_a_bad_or_late_poll_answer_is_refused_clearly_and_changes_nothing(event):
    poll_id = open_poll(event)
    draft = next(pid for pid in producer(event, "add_poll", question="Later?", options=["a", "b"])["polls"]
                 if pid != poll_id)
    client, _ = viewer(event)
    before = store.snapshot(event.pk)
    for path, body, status, code in [
        ("/e/launch/polls/v99/vote/", {"option": 0}, 404, "unknown_poll"),
        (f"/e/launch/polls/{poll_id}/vote/", {"option": 2}, 400, "unknown_option"),
        (f"/e/launch/polls/{poll_id}/vote/", {"option": -1}, 400, "unknown_option"),
        (f"/e/launch/polls/{poll_id}/vote/", {"option": "0"}, 400, "wrong_type"),
        (f"/e/launch/polls/{poll_id}/vote/", {"option": True}, 400, "wrong_type"),
        (f"/e/launch/polls/{poll_id}/vote/", {}, 400, "wrong_type"),
        (f"/e/launch/polls/{poll_id}/vote/", {"option": 0, "again": 1}, 400, "unknown_field"),
        (f"/e/launch/polls/{poll_id}/vote/", "{", 400, "malformed"),
        (f"/e/launch/polls/{draft}/vote/", {"option": 0}, 409, "poll_closed"),
    ]:
        answer = post(client, path, body)
        assert (answer[0], answer[1]["error"]["code"]) == (status, code), (path, body)
    assert not PollVote.objects.exists()
    assert store.snapshot(event.pk) == before
    producer(event, "set_poll_status", poll=poll_id, status="closed")
    closed = store.snapshot(event.pk)
    status, body = post(client, f"/e/launch/polls/{poll_id}/vote/", {"option": 0})
    assert (status, body["error"]["code"]) == (409, "poll_closed")
    assert store.snapshot(event.pk) == closed and not PollVote.objects.exists()


def test_votes_are_rate_limited_per_viewer(event, monkeypatch):
    monkeypatch.setattr(ratelimit, "VOTES", ratelimit.Limit("vote", count=1, seconds=60))
    question_id = approved_question(event)
    poll_id = open_poll(event)
    client, _ = viewer(event)
    assert post(client, f"/e/launch/questions/{question_id}/vote/", {})[0] == 200
    before = store.snapshot(event.pk)
    status, body = post(client, f"/e/launch/polls/{poll_id}/vote/", {"option": 0})
    assert (status, body["error"]["code"]) == (429, "too_fast")
    assert store.snapshot(event.pk) == before and not PollVote.objects.exists()


def test_the_audience_list_is_cacheable_and_shows_only_what_producers_let_through(event):
    assert Client().get("/e/launch/audience.json").json() == {"version": 0, "questions": [], "poll": None}
    question_id = approved_question(event)
    asker, _ = viewer(event, "Bo")
    post(asker, "/e/launch/questions/", {"text": "Still pending"})
    poll_id = open_poll(event)
    voter, _ = viewer(event)
    post(voter, f"/e/launch/polls/{poll_id}/vote/", {"option": 0})
    post(voter, f"/e/launch/questions/{question_id}/vote/", {})
    response = Client().get("/e/launch/audience.json")
    assert response["Cache-Control"] == "public, max-age=2"
    body = response.json()
    assert body["questions"] == [{"id": question_id, "text": "Approved?", "status": "approved", "votes": 1,
                                  "name": "Ada"}]
    assert body["poll"] == {"id": poll_id, "question": "Which city?", "options": ["Oslo", "Lyon"], "status": "open",
                            "results": None}
    producer(event, "show_poll_results", poll=poll_id, shown=True)
    assert Client().get("/e/launch/audience.json").json()["poll"]["results"] == [1, 0]
    assert "asker" not in response.content.decode()


def test_the_webcast_page_carries_the_panel_with_its_urls_a_csrf_token_and_the_stages_limits(event):
    client, _ = viewer(event)
    page = client.get("/e/launch/watch/").content.decode()
    assert 'data-ask-url="/e/launch/questions/"' in page and 'data-can-ask="true"' in page
    assert 'data-upvote-url="/e/launch/questions/QUESTION/vote/"' in page
    assert 'data-answer-url="/e/launch/polls/POLL/vote/"' in page
    assert 'name="csrfmiddlewaretoken"' in page
    assert f'data-text-limit="{MAX_TEXT_LENGTH}" data-name-limit="{MAX_NAME_LENGTH}"' in page
    assert f'name="text" rows="3" maxlength="{MAX_TEXT_LENGTH}"' in page
    assert f'name="name" maxlength="{MAX_NAME_LENGTH}"' in page


def test_a_question_without_the_pages_csrf_token_is_refused_and_changes_nothing(event):
    registration = register(event, name="Kim", email="kim@example.com")
    client = Client(enforce_csrf_checks=True)
    client.get(registration.get_join_url())
    before = store.snapshot(event.pk)
    refused = client.post("/e/launch/questions/", json.dumps({"text": "Hi"}), content_type="application/json")
    assert refused.status_code == 403
    assert store.snapshot(event.pk) == before
    page = client.get("/e/launch/watch/")
    token = page.context["csrf_token"]
    response = client.post("/e/launch/questions/", json.dumps({"text": "Hi"}), content_type="application/json",
                           headers={"X-CSRFToken": str(token)})
    assert response.status_code == 201


def test_reading_the_lists_of_a_show_nobody_started_creates_no_stage(event):
    client, _ = viewer(event)
    assert client.get("/e/launch/questions/mine.json").json() == {"questions": [], "upvoted": [], "answers": {}}
    assert client.get("/e/launch/audience.json").json() == {"version": 0, "questions": [], "poll": None}
    assert not StageState.objects.filter(event=event).exists()


def test_a_question_sent_again_with_its_client_id_is_the_same_question(event):
    client, _ = viewer(event)
    first = post(client, "/e/launch/questions/", {"text": "Once?", "client_id": "a1b2"})
    assert first == (201, {"id": "q1", "status": "pending"})
    producer(event, "set_question_status", question="q1", status="approved")
    before = store.snapshot(event.pk)
    assert post(client, "/e/launch/questions/", {"text": "Once?", "client_id": "a1b2"}) == (
        201, {"id": "q1", "status": "approved"})
    assert store.snapshot(event.pk) == before
    # The same client id from another viewer is their own question.
    other, _ = viewer(event, "Lou")
    assert post(other, "/e/launch/questions/", {"text": "Mine", "client_id": "a1b2"}) == (
        201, {"id": "q2", "status": "pending"})
    for bad in ("", "x" * 41, 7):
        status, body = post(client, "/e/launch/questions/", {"text": "Again", "client_id": bad})
        assert (status, body["error"]["code"], body["error"]["field"]) == (400, "out_of_range", "client_id")
    assert len(store.snapshot(event.pk)["questions"]) == 2


def test_a_recount_sends_only_the_counts_that_changed_and_a_vote_removed_counts_down(event):
    question_id = approved_question(event)
    client, registration = viewer(event)
    post(client, f"/e/launch/questions/{question_id}/vote/", {})
    assert tally.counts(event.pk) == {"type": "set_votes", "questions": {}, "polls": {}}
    registration.delete()  # a registrant removed: their vote goes with them
    assert tally.counts(event.pk) == {"type": "set_votes", "questions": {question_id: 0}, "polls": {}}


def test_an_answer_that_raced_the_close_of_its_poll_is_not_counted(event):
    poll_id = open_poll(event)
    client, _ = viewer(event)
    _, registration = viewer(event, "Lou")
    post(client, f"/e/launch/polls/{poll_id}/vote/", {"option": 0})
    producer(event, "set_poll_status", poll=poll_id, status="closed")
    # As if Lou's request saw the poll open and its row committed just after the close.
    PollVote.objects.create(event=event, poll=poll_id, option=1, registration=registration)
    assert tally.counts(event.pk)["polls"] == {}  # [1, 0] already: nothing changed
    producer(event, "set_poll_status", poll=poll_id, status="open")
    assert tally.counts(event.pk)["polls"] == {poll_id: [1, 1]}  # reopened: it counts


def test_a_viewers_question_upvote_and_answer_are_sync_views_run_in_one_hop():
    """config/django_http.py runs sync views whole in one pooled thread; async ones hop ~20 times."""
    for path in ["/e/launch/questions/", "/e/launch/questions/q1/vote/", "/e/launch/polls/p1/vote/"]:
        assert not OneHopHandler._async_view({"type": "http", "path": path, "root_path": ""}), path


def recounts(event) -> int:
    return StageLogEntry.objects.filter(event=event, command__type="set_votes").count()


def test_a_delayed_recount_without_a_server_loop_waits_in_a_thread_and_counts_every_vote(event, settings, monkeypatch):
    """The test client runs the views with no loop to outlive the request: the recount still comes."""
    settings.STAGE_VOTE_TALLY_SECONDS = 0.1
    votes_in = threading.Event()

    async def held(period: float) -> None:
        await asyncio.to_thread(votes_in.wait, 10)

    monkeypatch.setattr(tally, "wait", held)
    question_id = approved_question(event)
    for name in ["Kim", "Lou"]:
        assert post(viewer(event, name)[0], f"/e/launch/questions/{question_id}/vote/", {})[0] == 200
    waiting = [thread for thread in threading.enumerate() if thread.name == f"tally-{event.pk}"]
    assert len(waiting) == 1 and recounts(event) == 0  # armed once, held until both votes are in
    votes_in.set()
    waiting[0].join(10)
    assert not waiting[0].is_alive()
    assert (recounts(event), state_of(event)["questions"][question_id]["votes"]) == (1, 2)


async def test_a_delayed_recount_under_a_server_loop_waits_on_that_loop(event, settings, monkeypatch):
    """Views in a thread started from a running loop (daphne's; here the async client's) arm a task there."""
    settings.STAGE_VOTE_TALLY_SECONDS = 0.1
    loop, started, votes_in, ran_on = asyncio.get_running_loop(), asyncio.Event(), asyncio.Event(), []

    async def held(period: float) -> None:
        ran_on.append(asyncio.get_running_loop())
        started.set()
        await votes_in.wait()

    monkeypatch.setattr(tally, "wait", held)
    question_id = await database_sync_to_async(approved_question)(event)
    for name in ["Kim", "Lou"]:
        client = AsyncClient()
        client.cookies = (await database_sync_to_async(viewer)(event, name))[0].cookies
        path = f"/e/launch/questions/{question_id}/vote/"
        assert (await client.post(path, "{}", content_type="application/json")).status_code == 200
    await asyncio.wait_for(started.wait(), 10)
    assert ran_on == [loop] and len(tally._armed) == 1
    assert not [thread for thread in threading.enumerate() if thread.name.startswith("tally-")]
    votes_in.set()
    await asyncio.gather(*tally._armed)
    assert await database_sync_to_async(recounts)(event) == 1
    assert (await database_sync_to_async(state_of)(event))["questions"][question_id]["votes"] == 2


async def test_a_delayed_recount_holds_no_thread_while_it_is_broadcast(event, settings, monkeypatch):
    """It counts in a thread and is applied as a console's command is: counted and broadcast in
    asgiref's shared thread, it held that thread while its broadcast waited for the loop, and
    whatever else needed the thread (a producer's take) waited behind it. Here that thread is
    held by something else: the recount comes all the same."""
    settings.STAGE_VOTE_TALLY_SECONDS = 0.1
    started, votes_in = asyncio.Event(), asyncio.Event()

    async def held(period: float) -> None:
        started.set()
        await votes_in.wait()

    monkeypatch.setattr(tally, "wait", held)
    question_id = await database_sync_to_async(approved_question)(event)
    client = AsyncClient()
    client.cookies = (await database_sync_to_async(viewer)(event, "Kim"))[0].cookies
    path = f"/e/launch/questions/{question_id}/vote/"
    assert (await client.post(path, "{}", content_type="application/json")).status_code == 200
    await asyncio.wait_for(started.wait(), TIMEOUT)
    with shared_thread_held():
        votes_in.set()
        await asyncio.wait_for(asyncio.gather(*tally._armed), TIMEOUT)
        count = await database_sync_to_async(state_of, thread_sensitive=False)(event)
    assert count["questions"][question_id]["votes"] == 1
