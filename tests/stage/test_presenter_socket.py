"""The green room's side of the stage socket (the extension point stage/greenroom.py builds on):
a presenter's view without the private chat of others, their own chat pushed to them alone, and
only commands about themselves. Uses the benchmark's presenter socket, which is that shape."""

import json

import pytest
from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.urls import path

from stage import store
from stage.benchmark.consumers import BenchPresenterConsumer
from stage.routing import websocket_urlpatterns
from tests.factories import make_event, make_producer, make_tone_presenter
from tests.stage.sockets import Console, session_cookie

pytestmark = [pytest.mark.both_modes, pytest.mark.django_db(transaction=True)]

application = AuthMiddlewareStack(
    URLRouter(
        [
            *websocket_urlpatterns,
            path("ws/g/<int:event_id>/<int:presenter_id>/<str:key>/", BenchPresenterConsumer.as_asgi()),
        ]
    )
)


@pytest.fixture
def show():
    event = make_event("greenroom-show")
    ada = make_tone_presenter(event, "Ada", 440, position=1)
    bea = make_tone_presenter(event, "Bea", 880, position=2)
    return {"event": event.pk, "ada": ada, "bea": bea, "alice": session_cookie(make_producer(event, "alice"))}


async def green_room(event_id: int, presenter, key: str | None = None) -> tuple[WebsocketCommunicator, dict]:
    socket = WebsocketCommunicator(application, f"/ws/g/{event_id}/{presenter.pk}/{key or presenter.access_key}/")
    assert (await socket.connect())[0]
    message = await socket.receive_json_from(timeout=5)
    return socket, message


async def until(socket: WebsocketCommunicator, type_: str) -> dict:
    while True:
        message = await socket.receive_json_from(timeout=5)
        if message["type"] == type_:
            return message


async def test_a_presenter_sees_the_show_and_their_own_conversation_only(show):
    producer = await Console(show["event"], show["alice"]).open()
    await producer.command("message", presenter=show["bea"].line_id, text="For Bea")
    ada, snapshot = await green_room(show["event"], show["ada"])
    assert snapshot["type"] == "snapshot" and snapshot["version"] == 1
    assert "messages" not in snapshot["state"] and "questions" not in snapshot["state"]
    assert snapshot["conversation"] == [] and "audit" not in snapshot
    assert list(snapshot["state"]["presenters"]) == [show["ada"].line_id, show["bea"].line_id]

    await producer.command("message", presenter=show["ada"].line_id, text="For Ada")
    delta = await until(ada, "delta")
    assert (delta["version"], delta["base"], delta["set"], delta["unset"], delta["events"]) == (
        2,
        1,
        {"serial": 2},
        [],
        [],
    )
    private = await until(ada, "message")
    assert private["message"]["text"] == "For Ada" and private["message"]["from"] == "producer"
    await ada.disconnect()
    await producer.close()


async def test_a_presenter_acknowledges_their_cue_but_not_someone_elses(show):
    state = await database_sync_to_async(store.snapshot)(show["event"])
    ada_id, bea_id = show["ada"].line_id, show["bea"].line_id
    await database_sync_to_async(store.submit)(
        show["event"],
        {"type": "cue", "to": "all", "kind": "on", "version": state["version"], "client_id": "c"},
        actor="user:x",
    )
    ada, snapshot = await green_room(show["event"], show["ada"])
    cue_id = next(iter(snapshot["state"]["cues"]))
    await ada.send_to(
        json.dumps({"type": "ack_cue", "cue": cue_id, "presenter": bea_id, "version": 1, "client_id": "a1"})
    )
    refusal = await until(ada, "refused")
    assert refusal["error"] == {
        "code": "forbidden",
        "field": "presenter",
        "message": "A presenter may only act for themselves.",
    }
    await ada.send_to(json.dumps({"type": "go_live", "version": 1, "client_id": "a2"}))
    assert (await until(ada, "refused"))["error"]["message"] == "A presenter may not send go_live."
    await ada.send_to(
        json.dumps({"type": "ack_cue", "cue": cue_id, "presenter": ada_id, "version": 1, "client_id": "a3"})
    )
    # The ack and the push may arrive in either order.
    seen = {}
    while set(seen) != {"ack", "delta"}:
        message = await ada.receive_json_from(timeout=5)
        seen[message["type"]] = message
    assert seen["ack"]["version"] == seen["delta"]["version"] == 2
    acks = seen["delta"]["set"][f"cues.{cue_id}"]["acks"]
    assert list(acks) == [ada_id] and isinstance(acks[ada_id], float)
    await ada.disconnect()


async def test_a_wrong_magic_link_gets_no_green_room(show):
    socket = WebsocketCommunicator(application, f"/ws/g/{show['event']}/{show['ada'].pk}/not-the-key/")
    assert (await socket.connect())[0]
    assert await socket.receive_output(timeout=5) == {"type": "websocket.close", "code": 4403}
    await socket.disconnect()
