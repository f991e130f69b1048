"""The green room's stage socket: a presenter's view without the private chat of others, their
own chat pushed to them alone, only commands about themselves, and their presence. Every
message it receives is checked against the stage contract."""

import asyncio
import json

import pytest
from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.db import OperationalError

from events.invitations import reissue_link
from events.models import Event
from stage import greenroom, store
from stage.broadcast import apply_and_broadcast
from stage.contract.commands import MIXER
from stage.routing import websocket_urlpatterns
from tests.factories import make_event, make_producer, make_tone_presenter
from tests.messages import GREENROOM, received
from tests.stage.sockets import Console, refusal_of, session_cookie

pytestmark = [pytest.mark.both_modes, pytest.mark.django_db(transaction=True)]

application = AuthMiddlewareStack(URLRouter(websocket_urlpatterns))


@pytest.fixture
def show():
    event = make_event("greenroom-show")
    ada = make_tone_presenter(event, "Ada", 440, position=1)
    bea = make_tone_presenter(event, "Bea", 880, position=2)
    return {"event": event.pk, "ada": ada, "bea": bea, "alice": session_cookie(make_producer(event, "alice"))}


async def green_room(event_id: int, presenter, key: str | None = None) -> tuple[WebsocketCommunicator, dict]:
    path = f"/ws/events/{event_id}/greenroom/{presenter.pk}/{key or presenter.access_key}/"
    socket = WebsocketCommunicator(application, path)
    assert (await socket.connect())[0]
    message = await next_message(socket)
    return socket, message


async def next_message(socket: WebsocketCommunicator) -> dict:
    return received(await socket.receive_from(timeout=5), GREENROOM)


async def until(socket: WebsocketCommunicator, type_: str) -> dict:
    while True:
        message = await next_message(socket)
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
    presence = await until(ada, "delta")
    assert presence["version"] == 2 and presence["set"][f"presenters.{show['ada'].line_id}"]["connected"] is True

    await producer.command("message", presenter=show["ada"].line_id, text="For Ada")
    delta = await until(ada, "delta")
    assert (delta["version"], delta["base"], delta["set"], delta["unset"], delta["happenings"]) == (
        3,
        2,
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
    # The ack and the push may arrive in either order, and the refusals (answered without the
    # database) before the push of Ada's presence (version 2), which goes round the layer.
    seen = {}
    while set(seen) != {"ack", "delta"}:
        message = await next_message(ada)
        if message["type"] != "delta" or message["version"] != 2:
            seen[message["type"]] = message
    assert seen["ack"]["version"] == seen["delta"]["version"] == 3  # 2 was Ada's presence
    acks = seen["delta"]["set"][f"cues.{cue_id}"]["acks"]
    assert list(acks) == [ada_id] and isinstance(acks[ada_id], float)
    await ada.disconnect()


async def test_a_wrong_magic_link_gets_no_green_room(show):
    socket = WebsocketCommunicator(application, f"/ws/events/{show['event']}/greenroom/{show['ada'].pk}/not-the-key/")
    assert (await socket.connect())[0]
    error, code = await refusal_of(socket)
    assert (error["code"], code) == ("forbidden", 4403)
    assert "wrong or was replaced" in error["message"]
    await socket.disconnect()


async def test_another_presenters_key_opens_no_green_room_for_this_presenter(show):
    path = f"/ws/events/{show['event']}/greenroom/{show['ada'].pk}/{show['bea'].access_key}/"
    socket = WebsocketCommunicator(application, path)
    assert (await socket.connect())[0]
    assert (await refusal_of(socket))[1] == 4403
    await socket.disconnect()


async def command(socket: WebsocketCommunicator, type_: str, **fields) -> dict:
    """Send a presenter command at the head version and return the server's answer to it."""
    state = await database_sync_to_async(store.snapshot)(fields.pop("event"))
    client_id = f"{type_}-{state['version']}"
    await socket.send_to(json.dumps({"type": type_, "version": state["version"], "client_id": client_id} | fields))
    while True:
        message = await next_message(socket)
        if message.get("client_id") == client_id:
            return message


async def test_check_in_ready_status_and_chat_reach_the_console(show):
    producer = await Console(show["event"], show["alice"]).open()
    ada, _ = await green_room(show["event"], show["ada"])
    me = show["ada"].line_id
    for type_, fields in [
        ("set_check_in", {"checked_in": True}),
        ("set_ready", {"ready": True}),
        ("set_status", {"status": "audio_problem"}),
        ("message", {"text": "My headset crackles"}),
    ]:
        answer = await command(ada, type_, event=show["event"], presenter=me, **fields)
        assert answer["type"] == "ack" and answer["applied"], answer
    await producer.until_state(lambda s: s["messages"])
    seen = producer.state["presenters"][me]
    assert (seen["connected"], seen["checked_in"], seen["ready"], seen["status"]) == (True, True, True, "audio_problem")
    chat = [m for m in producer.state["messages"].values() if m["presenter"] == me]
    assert [(m["from"], m["by"], m["text"]) for m in chat] == [("presenter", f"presenter:{me}", "My headset crackles")]
    await ada.disconnect()
    await producer.close()


async def test_presence_drops_only_when_the_presenters_last_socket_closes(show, settings):
    settings.STAGE_PRESENCE_GRACE_SECONDS = 0.2
    producer = await Console(show["event"], show["alice"]).open()
    me = show["ada"].line_id
    first, _ = await green_room(show["event"], show["ada"])
    second, _ = await green_room(show["event"], show["ada"])
    await producer.until_state(lambda s: s["presenters"][me]["connected"])
    await first.disconnect()
    state = await database_sync_to_async(store.snapshot)(show["event"])
    assert state["presenters"][me]["connected"] is True
    await second.disconnect()
    await producer.until_state(lambda s: not s["presenters"][me]["connected"])
    await producer.close()


async def test_a_presenter_who_comes_back_within_the_grace_keeps_their_place_on_air(show, settings):
    settings.STAGE_PRESENCE_GRACE_SECONDS = 1.0
    producer = await Console(show["event"], show["alice"]).open()
    me = show["ada"].line_id
    ada, _ = await green_room(show["event"], show["ada"])
    await producer.until_state(lambda s: s["presenters"][me]["connected"])
    assert (await producer.command("set_on_air", line=me, on_air=True))["type"] == "ack"
    await ada.disconnect()  # a reload: the page's socket closes, and a new one opens at once
    ada, _ = await green_room(show["event"], show["ada"])
    await asyncio.gather(*greenroom._pending_drops)  # the grace ran out, and the drop was not reported
    state = await database_sync_to_async(store.snapshot)(show["event"])
    assert state["presenters"][me]["connected"] is True and state["lines"][me]["on_air"] is True
    await ada.disconnect()  # gone for good: once the grace is over, off air
    await producer.until_state(lambda s: not s["presenters"][me]["connected"] and not s["lines"][me]["on_air"])
    await producer.close()


async def test_a_drop_after_the_event_was_deleted_is_nobodys_business(show, settings):
    settings.STAGE_PRESENCE_GRACE_SECONDS = 0.1
    ada, _ = await green_room(show["event"], show["ada"])
    await ada.disconnect()
    await database_sync_to_async(lambda: Event.objects.filter(pk=show["event"]).delete())()
    # The drop, due once the grace runs out, finds no event: it ends quietly, not with an error.
    assert await asyncio.gather(*greenroom._pending_drops) == [None]


async def test_revoking_a_link_closes_the_sockets_it_opened(show):
    ada, _ = await green_room(show["event"], show["ada"])
    await database_sync_to_async(reissue_link)(show["ada"])
    message = await until(ada, "error")
    assert message["error"]["code"] == "revoked"
    assert await ada.receive_output(timeout=5) == {"type": "websocket.close", "code": 4403}
    await ada.disconnect()


async def test_a_line_source_holding_a_secret_never_reaches_a_green_room(show):
    secret = "sk-7f3c9a0e"
    url = f"rtmp://publish:{secret}@encoder.example/live/{secret}"
    bea = show["bea"].line_id
    producer = await Console(show["event"], show["alice"]).open()
    ada, snapshot = await green_room(show["event"], show["ada"])
    assert snapshot["state"]["lines"][bea]["source_kind"] == "test_tone"
    assert (await producer.command("set_line_source", line=bea, source=url, format="flv"))["type"] == "ack"
    fault = {"type": "set_line_health", "line": bea, "health": "faulted", "fault": f"{url} was refused"}
    assert (await apply_and_broadcast(show["event"], fault, actor="mixer", role=MIXER)).applied
    seen = []
    while not seen or seen[-1]["set"].get(f"lines.{bea}", {}).get("health") != "faulted":
        seen.append(await until(ada, "delta"))
    assert [delta["set"][f"lines.{bea}"] for delta in seen if f"lines.{bea}" in delta["set"]] == [
        {"presenter": bea, "on_air": False, "muted": False, "health": "unknown", "source_kind": "encoder"},
        {"presenter": bea, "on_air": False, "muted": False, "health": "faulted", "source_kind": "encoder"},
    ]
    again, snapshot = await green_room(show["event"], show["ada"])
    assert snapshot["state"]["lines"][bea]["source_kind"] == "encoder"
    assert secret not in json.dumps(seen) and secret not in json.dumps(snapshot)
    assert producer.state["lines"][bea]["source"] == url  # the producers' console keeps it
    for socket in (ada, again):
        await socket.disconnect()
    await producer.close()


async def test_a_drop_while_the_database_is_down_is_written_when_it_is_back(show, settings, monkeypatch):
    settings.STAGE_PRESENCE_GRACE_SECONDS = 0.1
    monkeypatch.setattr(greenroom, "DROP_RETRY_FIRST_SECONDS", 0.05)
    producer = await Console(show["event"], show["alice"]).open()
    me = show["ada"].line_id
    ada, _ = await green_room(show["event"], show["ada"])
    await producer.until_state(lambda s: s["presenters"][me]["connected"])
    # The database down, as Django reports it to the stage's store; back after three attempts.
    real_submit, attempts = store.submit, []

    def submit_in_an_outage(*args, **kwargs):
        attempts.append(args[1]["type"])
        if len(attempts) <= 3:
            raise OperationalError("connection to server failed: Connection refused")
        return real_submit(*args, **kwargs)

    monkeypatch.setattr(store, "submit", submit_in_an_outage)
    await ada.disconnect()
    await producer.until_state(lambda s: not s["presenters"][me]["connected"])
    assert attempts == ["set_presence"] * 4
    await producer.close()
