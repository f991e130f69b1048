"""Producers see the audience's questions, upvote counts and poll answers on their console, through
the stage, with votes coalesced into recounts; nothing of who asked reaches them. Every message
the console receives is checked against the contract (tests/messages.py): a question record
carrying its asker would fail it."""

import asyncio
import json

import pytest
from channels.db import database_sync_to_async
from django.conf import settings as django_settings
from django.test import AsyncClient, Client

from events.registration import register
from stage import tally
from stage.models import StageLogEntry
from tests.factories import make_event, make_producer
from tests.stage.sockets import Console, session_cookie

pytestmark = [pytest.mark.both_modes, pytest.mark.django_db(transaction=True)]
VIEWERS = 5


def _setup() -> dict:
    event = make_event("town-hall")
    cookies = []
    for n in range(VIEWERS):
        client = Client()
        registration = register(event, name=f"Viewer {n}", email=f"viewer{n}@example.com")
        client.get(registration.get_join_url())
        cookies.append(client.cookies[django_settings.SESSION_COOKIE_NAME].value)
    return {"event": event.pk, "producer": session_cookie(make_producer(event, "pat")), "viewers": cookies}


def viewer_client(cookie: str) -> AsyncClient:
    client = AsyncClient()
    client.cookies[django_settings.SESSION_COOKIE_NAME] = cookie
    return client


async def post(client: AsyncClient, path: str, body: dict) -> int:
    return (await client.post(path, json.dumps(body), content_type="application/json")).status_code


@database_sync_to_async
def recounts(event_id: int) -> int:
    return StageLogEntry.objects.filter(event_id=event_id, command__type="set_votes").count()


async def test_producers_see_questions_upvotes_and_poll_answers_recounted_once_for_many_votes(settings, monkeypatch):
    settings.STAGE_VOTE_TALLY_SECONDS = 0.5
    votes_in = asyncio.Event()

    async def held(period: float) -> None:
        await votes_in.wait()

    monkeypatch.setattr(tally, "wait", held)
    show = await database_sync_to_async(_setup)()
    viewers = [viewer_client(cookie) for cookie in show["viewers"]]
    console = await Console(show["event"], show["producer"]).open()

    assert await post(viewers[0], "/e/town-hall/questions/", {"text": "Is it recorded?", "name": "Kim"}) == 201
    await console.until_state(lambda state: "q1" in state["questions"])
    assert console.state["questions"]["q1"] == {
        "text": "Is it recorded?", "name": "Kim", "status": "pending", "asked_at": console.state["questions"]["q1"][
            "asked_at"], "votes": 0}
    assert (console.audit[-1]["actor"], console.audit[-1]["role"]) == ("viewer", "viewer")
    assert (await console.command("set_question_status", question="q1", status="approved"))["type"] == "ack"

    statuses = await asyncio.gather(*(post(client, "/e/town-hall/questions/q1/vote/", {}) for client in viewers))
    assert statuses == [200] * VIEWERS
    assert await recounts(show["event"]) == 0  # armed once, held until every vote is in
    votes_in.set()
    await console.until_state(lambda state: state["questions"]["q1"]["votes"] == VIEWERS)
    assert await recounts(show["event"]) == 1

    votes_in.clear()
    assert (await console.command("add_poll", question="Next city?", options=["Oslo", "Lyon", "Graz"]))["type"] == "ack"
    poll_id = next(iter(console.state["polls"]))
    assert (await console.command("set_poll_status", poll=poll_id, status="open"))["type"] == "ack"
    answers = [0, 2, 2, 1, 2]
    statuses = await asyncio.gather(*(
        post(client, f"/e/town-hall/polls/{poll_id}/vote/", {"option": option})
        for client, option in zip(viewers, answers, strict=True)
    ))
    assert statuses == [201] * VIEWERS
    votes_in.set()
    await console.until_state(lambda state: state["polls"][poll_id]["counts"] == [1, 1, 3])
    assert await recounts(show["event"]) == 2

    assert (await console.command("show_poll_results", poll=poll_id, shown=True))["type"] == "ack"
    shown = (await viewers[1].get("/e/town-hall/audience.json")).json()["poll"]
    assert (shown["id"], shown["results"]) == (poll_id, [1, 1, 3])
    await console.close()
