"""Admission before anything: a socket's role is decided before a message of it is read, and
its default role may do nothing; admitted sockets are throttled before any parsing.

The commands here race the handshake the way the attack did: they are queued behind the
`websocket.connect` before the consumer has decided anything."""

import json

import pytest
from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.urls import URLPattern, path

from events import ratelimit
from events.invitations import reissue_link
from stage import store
from stage.admission import AdmittedSocket
from stage.consumers import ConsoleConsumer, StageSocketConsumer
from stage.models import StageLogEntry
from stage.routing import websocket_urlpatterns as stage_sockets
from streaming.routing import websocket_urlpatterns as uplink_sockets
from tests.factories import make_event, make_producer, make_tone_presenter
from tests.messages import CONSOLE, received
from tests.stage.sockets import ORIGIN, Console, refusal_of, session_cookie

pytestmark = [pytest.mark.both_modes, pytest.mark.django_db(transaction=True)]

application = AuthMiddlewareStack(URLRouter(stage_sockets + uplink_sockets))
WEBM_HEADER = b"\x1a\x45\xdf\xa3" + bytes(60)


@pytest.fixture
def show():
    event = make_event("admission-show")
    ada = make_tone_presenter(event, "Ada", 440, position=1)
    bea = make_tone_presenter(event, "Bea", 880, position=2)
    other = make_event("admission-other")
    return {
        "event": event.pk,
        "ada": ada,
        "bea": bea,
        "alice": session_cookie(make_producer(event, "alice")),
        "carol": session_cookie(make_producer(other, "carol")),
    }


def stage_record(event_id: int) -> tuple[int, list[tuple[str, str]]]:
    """The stage version and the audit log (actor, command) of the event."""
    version = store.snapshot(event_id)["version"]
    entries = StageLogEntry.objects.filter(event_id=event_id).order_by("version")
    return version, [(entry.actor, entry.command["type"]) for entry in entries]


def commands(types: list[str], **fields) -> list[dict]:
    return [{"type": t, "version": 0, "client_id": f"attack-{i}"} | fields for i, t in enumerate(types)]


async def race_the_handshake(path: str, cookie: bytes | None, texts=(), binaries=()) -> tuple[dict, int]:
    """Queue messages right behind the connect, as a raw client sending them with the upgrade."""
    headers = [ORIGIN] + ([(b"cookie", cookie)] if cookie else [])
    socket = WebsocketCommunicator(application, path, headers=headers)
    await socket.send_input({"type": "websocket.connect"})
    for text in texts:
        await socket.send_input({"type": "websocket.receive", "text": json.dumps(text)})
    for data in binaries:
        await socket.send_input({"type": "websocket.receive", "bytes": data})
    accepted = await socket.receive_output(timeout=5)
    assert accepted["type"] == "websocket.accept"
    refusal = await refusal_of(socket)
    assert await socket.receive_nothing(timeout=0.3)  # nothing of the queued commands was answered
    await socket.disconnect()
    return refusal


@pytest.mark.parametrize("who", ["nobody", "carol"])
async def test_commands_racing_a_refused_consoles_handshake_change_nothing(show, who, caplog):
    cookie = show["carol"] if who == "carol" else None
    before = await database_sync_to_async(stage_record)(show["event"])
    attack = [
        {"type": "go_live", "version": 0, "client_id": "attack-1"},
        {"type": "set_on_air", "version": 1, "client_id": "attack-2", "line": show["ada"].line_id, "on_air": True},
        {"type": "end_show", "version": 2, "client_id": "attack-3"},
    ]
    error, code = await race_the_handshake(f"/ws/events/{show['event']}/console/", cookie, attack)
    assert (error["code"], code) == ("forbidden", 4403)
    assert await database_sync_to_async(stage_record)(show["event"]) == before == (0, [])
    assert "refused a command" not in caplog.text  # not even logged as somebody's command


async def test_commands_racing_a_revoked_green_room_link_change_nothing(show):
    old_key = show["ada"].access_key
    await database_sync_to_async(reissue_link)(show["ada"])
    me = show["ada"].line_id
    error, code = await race_the_handshake(
        f"/ws/events/{show['event']}/greenroom/{show['ada'].pk}/{old_key}/",
        None,
        commands(["set_check_in"], presenter=me, checked_in=True) + commands(["go_live"]),
    )
    assert (error["code"], code) == ("forbidden", 4403)
    assert await database_sync_to_async(stage_record)(show["event"]) == (0, [])


async def test_audio_racing_a_revoked_uplink_link_reaches_nothing(show):
    old_key = show["ada"].access_key
    await database_sync_to_async(reissue_link)(show["ada"])
    me = show["ada"].line_id
    error, code = await race_the_handshake(
        f"/ws/events/{show['event']}/lines/{me}/uplink/{show['ada'].pk}/{old_key}/", None, binaries=[WEBM_HEADER]
    )
    assert (error["code"], code) == ("forbidden", 4403)


def test_every_socket_route_admits_before_it_reads():
    """A socket added later inherits the rule: its consumer is an AdmittedSocket."""
    for route in stage_sockets + uplink_sockets:
        assert isinstance(route, URLPattern)
        consumer = route.callback.consumer_class
        assert issubclass(consumer, AdmittedSocket), consumer
        assert consumer.admit is not AdmittedSocket.admit, f"{consumer.__name__} decides nothing"


async def test_a_socket_that_forgets_to_admit_refuses(show):
    class Forgetful(StageSocketConsumer):
        pass

    socket = WebsocketCommunicator(
        AuthMiddlewareStack(URLRouter([_route(Forgetful)])),
        f"/ws/events/{show['event']}/console/",
        headers=[ORIGIN, (b"cookie", show["alice"])],
    )
    assert (await socket.connect())[0]
    error, code = await refusal_of(socket)
    assert (error["code"], code) == ("forbidden", 4403)
    await socket.send_to(json.dumps(commands(["go_live"])[0]))
    assert await socket.receive_nothing(timeout=0.3)
    assert await database_sync_to_async(stage_record)(show["event"]) == (0, [])


def _route(consumer):
    return path("ws/events/<int:event_id>/console/", consumer.as_asgi())


async def test_a_flood_is_cut_off_before_the_database(show, monkeypatch):
    """Past the burst, messages are dropped unparsed: exactly the burst's commands are applied,
    then a typed error and 4429."""
    monkeypatch.setattr(ConsoleConsumer, "message_rate", 0.0)
    monkeypatch.setattr(ConsoleConsumer, "message_burst", 5.0)
    console = await Console(show["event"], show["alice"]).open()
    for version in range(40):
        gain = {"line": show["ada"].line_id, "gain_db": -1.0 - version}
        message = {"type": "set_gain", "version": version, "client_id": f"flood-{version}"} | gain
        await console.socket.send_input({"type": "websocket.receive", "text": json.dumps(message)})
    answers = []
    while True:
        output = await console.socket.receive_output(timeout=5)
        if output["type"] == "websocket.close":
            break
        answers.append(received(output["text"], CONSOLE))
    assert output["code"] == 4429
    assert [a["version"] for a in answers if a["type"] == "ack"] == [1, 2, 3, 4, 5]
    assert answers[-1] == {
        "type": "error",
        "error": {"code": "too_fast", "field": None, "message": "Too many messages; reconnect in a moment."},
    }
    version, log = await database_sync_to_async(stage_record)(show["event"])
    assert version == 5 and len(log) == 5


async def test_snapshot_requests_are_answered_at_most_once_a_second(show):
    console = await Console(show["event"], show["alice"]).open()
    for _ in range(5):
        await console.socket.send_to(json.dumps({"type": "snapshot"}))
    # Within a second of the connect's snapshot: no snapshot now, one when the second is up.
    first = await console.command("set_mute", line=show["ada"].line_id, muted=True)
    assert first["type"] == "ack"
    seen = []
    while not seen:
        message = await console.next()
        seen += [message] if message["type"] == "snapshot" else []
    second = await console.command("set_mute", line=show["ada"].line_id, muted=False)
    assert second["type"] == "ack"
    assert await console.socket.receive_nothing(timeout=1.2)  # the five requests made one snapshot
    assert len(seen) == 1 and seen[0]["version"] == 1
    await console.close()


async def test_guessing_green_room_keys_over_sockets_is_stopped(show):
    path = f"/ws/events/{show['event']}/greenroom/{show['ada'].pk}/"
    for attempt in range(ratelimit.BAD_LINKS.count):
        socket = WebsocketCommunicator(application, f"{path}guess-{attempt}/")
        assert (await socket.connect())[0]
        assert (await refusal_of(socket))[1] == 4403
        await socket.disconnect()
    socket = WebsocketCommunicator(application, f"{path}{show['ada'].access_key}/")  # even the right key waits
    assert (await socket.connect())[0]
    error, code = await refusal_of(socket)
    assert (error["code"], code) == ("too_many_wrong_links", 4429)
    await socket.disconnect()
    me = show["ada"].line_id
    socket = WebsocketCommunicator(application, f"/ws/events/{show['event']}/lines/{me}/uplink/{show['ada'].pk}/x/")
    assert (await socket.connect())[0]
    assert (await refusal_of(socket))[1] == 4429


async def test_a_refused_console_is_not_followed(show):
    socket = WebsocketCommunicator(
        application, f"/ws/events/{show['event']}/console/", headers=[ORIGIN, (b"cookie", show["carol"])]
    )
    assert (await socket.connect())[0]
    await refusal_of(socket)
    alice = await Console(show["event"], show["alice"]).open()
    await alice.command("go_live")
    assert await socket.receive_nothing(timeout=0.3)  # carol's refused socket got no push
    await alice.close()
