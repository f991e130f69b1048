"""Property-based sweep of every stage message type for every kind of sender.

Messages are drawn from the protocol's own declarations (each field valid or not, fields left
out, unknown fields added, junk text) and sent over the real socket stack. Whatever arrives:
no exception escapes a consumer, every message is answered (or, on a refused socket, nothing
is), and nothing changes the stage unless the sender's role may send it and it is valid. A
presenter never gets a producer's command through, nor acts for someone else. Every answer and
push, whatever the fuzzed commands did to the stage, is one the stage contract declares."""

import json

import pytest
from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from events.models import Segment
from stage import store
from stage.contract.commands import COMMANDS, PRESENTER, PRODUCER, Field, ProtocolError, authorise, validate_command
from stage.models import StageLogEntry
from stage.routing import websocket_urlpatterns
from tests.factories import make_event, make_producer, make_tone_presenter
from tests.messages import audience_of, received
from tests.stage.sockets import ORIGIN, refusal_of, session_cookie

pytestmark = [pytest.mark.both_modes, pytest.mark.django_db(transaction=True), pytest.mark.timeout(300)]

application = AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# What no presenter may ever do, whatever the declarations say (an independent check of them).
PRODUCER_ONLY = {"go_live", "end_show", "start_rehearsal", "set_on_air", "set_mute", "set_gain", "take",
                 "set_line_source", "cue", "remove_segment", "set_question_status"}
IDS = ["p999", "s999", "c1", "m1", "q1"]

junk = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=4), st.integers(), max_size=2),
)


def valid_value(field: Field, ids: list[str]) -> st.SearchStrategy:
    if field.choices is not None:
        return st.sampled_from(field.choices)
    if field.kind is bool:
        return st.booleans()
    if field.kind is int:
        return st.integers(min_value=int(field.minimum or 0), max_value=int(field.maximum or 10**6))
    if field.kind is float:
        return st.floats(min_value=field.minimum, max_value=field.maximum, allow_nan=False)
    if field.kind is list:
        return st.lists(st.sampled_from(ids), max_size=field.max_length or 4)
    if field.max_length is not None and field.max_length <= 32:
        return st.sampled_from(ids)
    return st.text(min_size=1, max_size=60)


@st.composite
def messages(draw, ids: list[str]):
    """One message as a client might send it: a declared command, well-formed or not, or junk."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.one_of(st.text(max_size=30), st.sampled_from(["[]", "null", "{", '"go_live"'])))
    type_ = draw(st.sampled_from(sorted(COMMANDS)))
    clean = draw(st.booleans())  # half the messages are well-formed, to reach the machine
    chance_of_harm = 0 if clean else 4
    message = {"type": type_, "client_id": draw(st.uuids()).hex, "version": "current"}
    if draw(st.integers(0, 9)) < chance_of_harm:
        message["client_id"] = draw(junk)
    if draw(st.integers(0, 9)) < chance_of_harm:
        message["version"] = draw(junk)
    for name, field in COMMANDS[type_].fields.items():
        if not field.required and draw(st.booleans()):
            continue
        if draw(st.integers(0, 9)) < chance_of_harm:
            if draw(st.booleans()):
                continue  # left out
            message[name] = draw(junk)
        else:
            message[name] = draw(valid_value(field, ids))
    if not clean and draw(st.integers(0, 4)) == 0:
        message[draw(st.text(min_size=1, max_size=8))] = draw(junk)
    return message


def record(event_id: int) -> tuple[int, int]:
    return store.snapshot(event_id)["version"], StageLogEntry.objects.filter(event_id=event_id).count()


def acceptable(message: dict, role: str, actor: str) -> bool:
    """Whether the declarations let this sender send this message at all."""
    try:
        validate_command(message, role)
    except ProtocolError:
        return False
    return authorise(role, actor, message) is None


@pytest.fixture
def show():
    event = make_event("fuzzed")
    ada = make_tone_presenter(event, "Ada", 440, position=1)
    bea = make_tone_presenter(event, "Bea", 880, position=2)
    segment = Segment.objects.create(event=event, title="Welcome", position=1)
    segment.presenters.add(ada)
    other = make_event("fuzzed-other")
    return {
        "event": event.pk,
        "ada": ada,
        "ids": [ada.line_id, bea.line_id, f"s{segment.pk}", *IDS],
        "alice": session_cookie(make_producer(event, "alice")),
        "carol": session_cookie(make_producer(other, "carol")),
    }


async def exchange(socket: WebsocketCommunicator, event_id: int, message, role: str, actor: str) -> None:
    """Send one message and check its answer against what it did to the stage."""
    before = await database_sync_to_async(record)(event_id)
    if isinstance(message, dict) and message.get("version") == "current":
        message = message | {"version": before[0]}
    text = message if isinstance(message, str) else json.dumps(message)
    await socket.send_input({"type": "websocket.receive", "text": text})
    while True:
        answer = received(await socket.receive_from(timeout=10), audience_of(socket.scope["path"]))
        if answer["type"] in ("ack", "refused", "error"):
            break
    after = await database_sync_to_async(record)(event_id)
    allowed = isinstance(message, dict) and acceptable(message, role, actor)
    applied = answer["type"] == "ack" and answer["applied"]
    if applied:
        assert allowed, (message, answer)
        assert (after[0] > before[0], after[1]) == (True, before[1] + 1)
    else:
        assert after == before, (message, answer)
    if not allowed:
        assert answer["type"] in ("refused", "error"), (message, answer)
    if role == PRESENTER and isinstance(message, dict) and message.get("type") in PRODUCER_ONLY:
        assert not applied, message


async def open_socket(path: str, cookie: bytes | None = None) -> WebsocketCommunicator:
    socket = WebsocketCommunicator(application, path, headers=[ORIGIN] + ([(b"cookie", cookie)] if cookie else []))
    assert (await socket.connect(timeout=10))[0]
    return socket


async def settle_presence(socket: WebsocketCommunicator, me: str) -> None:
    """The green room reports its presenter connected right after the snapshot: wait for it."""
    while True:
        message = received(await socket.receive_from(timeout=10), audience_of(socket.scope["path"]))
        if message["type"] == "snapshot" and message["state"]["presenters"][me]["connected"]:
            return
        if message["type"] == "delta" and message["set"].get(f"presenters.{me}", {}).get("connected"):
            return


@given(data=st.data())
@FUZZ
async def test_a_producer_of_the_event_gets_exactly_what_the_protocol_allows(show, data):
    batch = data.draw(st.lists(messages(show["ids"]), min_size=1, max_size=8))
    socket = await open_socket(f"/ws/events/{show['event']}/console/", show["alice"])
    assert received(await socket.receive_from(timeout=10), audience_of(socket.scope["path"]))["type"] == "snapshot"
    for message in batch:
        await exchange(socket, show["event"], message, PRODUCER, "user:alice")
    await socket.disconnect()


@given(data=st.data())
@FUZZ
async def test_a_presenter_gets_only_their_own_commands_through(show, data):
    batch = data.draw(st.lists(messages(show["ids"]), min_size=1, max_size=8))
    ada = show["ada"]
    socket = await open_socket(f"/ws/events/{show['event']}/greenroom/{ada.pk}/{ada.access_key}/")
    await settle_presence(socket, ada.line_id)
    for message in batch:
        await exchange(socket, show["event"], message, PRESENTER, f"presenter:{ada.line_id}")
    await socket.disconnect()


@given(data=st.data(), who=st.sampled_from(["viewer", "carol"]))
@FUZZ
async def test_a_viewer_or_another_events_producer_moves_nothing(show, data, who):
    batch = data.draw(st.lists(messages(show["ids"]), min_size=1, max_size=8))
    before = await database_sync_to_async(record)(show["event"])
    socket = WebsocketCommunicator(
        application,
        f"/ws/events/{show['event']}/console/",
        headers=[ORIGIN] + ([(b"cookie", show["carol"])] if who == "carol" else []),
    )
    await socket.send_input({"type": "websocket.connect"})
    for message in batch:
        text = json.dumps(message | {"version": before[0]} if isinstance(message, dict) else message)
        await socket.send_input({"type": "websocket.receive", "text": text})
    assert (await socket.receive_output(timeout=10))["type"] == "websocket.accept"
    assert (await refusal_of(socket))[1] == 4403
    assert await socket.receive_nothing(timeout=0.05)
    await socket.disconnect()
    assert await database_sync_to_async(record)(show["event"]) == before

