"""The console over the real stack: Redis in the first pass, the in-memory layer in the second."""

import json

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.contrib.auth import get_user_model
from prometheus_client import REGISTRY

from events.models import Segment
from stage import fanout, store
from stage.broadcast import apply_and_broadcast
from stage.contract.commands import PRODUCER
from stage.groups import meters_group, stage_group
from stage.models import StageLogEntry
from stage.sources.policy import SourcePolicy
from tests.factories import make_event, make_producer, make_tone_presenter
from tests.stage.busy import shared_thread_held
from tests.stage.sockets import Console, refusal_of, session_cookie

pytestmark = [pytest.mark.both_modes, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def show():
    event = make_event("stage-show", title="Stage show")
    ada = make_tone_presenter(event, "Ada", 440, position=1)
    bea = make_tone_presenter(event, "Bea", 880, position=2)
    Segment.objects.create(event=event, title="Welcome", position=1).presenters.add(ada)
    Segment.objects.create(event=event, title="Panel", position=2).presenters.add(bea)
    alice, bob = make_producer(event, "alice"), make_producer(event, "bob")
    other = make_event("other-show", title="Other show")
    carol = make_producer(other, "carol")
    return {
        "event": event.pk,
        "ada": ada.line_id,
        "bea": bea.line_id,
        "alice": session_cookie(alice),
        "bob": session_cookie(bob),
        "carol": session_cookie(carol),
        "dave": session_cookie(get_user_model().objects.create_user("dave", password="x-long-password-1")),
    }


def log_versions(event_id: int) -> list[int]:
    return list(StageLogEntry.objects.filter(event_id=event_id).values_list("version", flat=True))


async def test_a_console_gets_the_snapshot_of_the_stage_on_connect(show):
    console = await Console(show["event"], show["alice"]).open()
    assert console.state["version"] == 0
    assert console.state["phase"] == "preshow"
    assert list(console.state["presenters"]) == [show["ada"], show["bea"]]
    assert [console.state["segments"][s]["title"] for s in console.state["rundown"]] == ["Welcome", "Panel"]
    assert console.audit == []
    await console.close()


def sample(name: str, **labels: str) -> float:
    """A figure of this process's /metrics (0 before it was first counted)."""
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_two_producers_stay_in_sync(show):
    sockets, go_lives = sample("webcast_websocket_clients", role=PRODUCER), sample(
        "webcast_command_seconds_count", command="go_live", outcome="applied")
    alice = await Console(show["event"], show["alice"]).open()
    bob = await Console(show["event"], show["bob"]).open()
    assert sample("webcast_websocket_clients", role=PRODUCER) == sockets + 2  # operations see them
    assert (await alice.command("go_live"))["type"] == "ack"
    assert sample("webcast_command_seconds_count", command="go_live", outcome="applied") == go_lives + 1
    delta = await bob.until("delta")
    assert (delta["version"], delta["base"], delta["set"]["phase"]) == (1, 0, "live")
    assert delta["audit"]["actor"] == "user:alice" and delta["audit"]["type"] == "go_live"
    assert (await bob.command("next"))["type"] == "ack"
    await alice.until("delta")
    assert (await alice.command("take"))["type"] == "ack"
    await bob.until("delta")
    assert alice.state == bob.state
    assert alice.state == await database_sync_to_async(store.snapshot)(show["event"])
    assert alice.state["lines"][show["ada"]]["on_air"] is True
    assert [entry["actor"] for entry in bob.audit] == ["user:alice", "user:bob", "user:alice"]
    assert bob.audit[-1]["chapter"] == "Welcome"
    await alice.close()
    await bob.close()
    assert sample("webcast_websocket_clients", role=PRODUCER) == sockets


async def test_a_producers_commands_do_not_wait_for_the_shared_thread(show):
    """No hop to asgiref's shared thread before the handler, and the command applied on a thread
    of its own (stage/broadcast.py): a take is not held up by whatever else runs there."""
    alice = await Console(show["event"], show["alice"]).open()
    with shared_thread_held():
        assert (await alice.command("go_live"))["type"] == "ack"
        assert (await alice.command("next"))["type"] == "ack"
        assert (await alice.command("take"))["type"] == "ack"
    assert alice.state["lines"][show["ada"]]["on_air"] is True
    await alice.close()


async def test_a_stale_version_is_refused_with_the_snapshot_and_changes_nothing(show):
    alice = await Console(show["event"], show["alice"]).open()
    bob = await Console(show["event"], show["bob"]).open()
    await alice.command("set_mute", line=show["ada"], muted=True)
    client_id = await bob.send("set_gain", version=0, line=show["ada"], gain_db=-20.0)
    refusal = await bob.until("refused")
    assert refusal["client_id"] == client_id
    assert refusal["error"] == {
        "code": "stale_version",
        "field": "version",
        "message": "The stage is at version 1, not 0.",
    }
    assert refusal["version"] == 1 and refusal["state"]["lines"][show["ada"]] | {"source": None} == {
        "label": "Ada",
        "presenter": show["ada"],
        "source": None,
        "format": "lavfi",
        "on_air": False,
        "muted": True,
        "gain_db": 0.0,
        "health": "unknown",
        "fault": None,
    }
    state = await database_sync_to_async(store.snapshot)(show["event"])
    assert state["lines"][show["ada"]]["gain_db"] == 0.0 and state["version"] == 1
    assert await database_sync_to_async(log_versions)(show["event"]) == [1]
    # Commands are absolute: re-sent at the current version, it does what was meant.
    assert (await bob.command("set_gain", line=show["ada"], gain_db=-20.0))["version"] == 2
    await alice.close()
    await bob.close()


async def test_line_health_from_the_mixer_never_makes_a_producer_stale(show):
    alice = await Console(show["event"], show["alice"]).open()
    outcome = await apply_and_broadcast(
        show["event"],
        {"type": "set_line_health", "line": show["ada"], "health": "faulted"},
        actor="mixer",
        role="mixer",
    )
    assert outcome.applied and outcome.state["version"] == 1
    delta = await alice.until("delta")
    assert delta["set"] == {f"lines.{show['ada']}": alice.state["lines"][show["ada"]]}
    assert alice.state["lines"][show["ada"]]["health"] == "faulted"
    # A producer who acted on version 0 is not stale: only facts happened since.
    client_id = await alice.send("set_mute", version=0, line=show["bea"], muted=True)
    ack = await alice.until("ack")
    assert (ack["client_id"], ack["version"]) == (client_id, 2)
    await alice.close()


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (
            "http://169.254.169.254/latest/meta-data/",
            "169.254.169.254 is a link-local address: lines may not reach it on this server.",
        ),
        (
            "rtmp://[::ffff:127.0.0.1]:1935/live",
            "::ffff:7f00:1 (127.0.0.1) is a loopback address: lines may not reach it on this server.",
        ),
        ("file:///etc/passwd", "File sources are off on this server (no media folder is configured)."),
        (
            "async:http://encoder.example/live",
            "Unsupported source 'async': use http, https, rtmp, rtmps, rtp, srt, udp.",
        ),
    ],
)
async def test_a_source_the_policy_refuses_is_refused_on_the_console_and_changes_nothing(show, source, message):
    alice = await Console(show["event"], show["alice"]).open()
    before = alice.state
    refusal = await alice.command("set_line_source", line=show["ada"], source=source)
    assert refusal["type"] == "refused"
    assert refusal["error"] == {"code": "invalid_source", "field": "source", "message": message}
    state = await database_sync_to_async(store.snapshot)(show["event"])
    assert state == before and state["lines"][show["ada"]]["source"].startswith("sine=")
    assert await database_sync_to_async(log_versions)(show["event"]) == []
    await alice.close()


async def test_the_operators_policy_is_what_the_console_is_held_to(show, settings):
    settings.LINE_SOURCE_POLICY = SourcePolicy.from_config(networks=["10.20.0.0/16"])
    alice = await Console(show["event"], show["alice"]).open()
    assert (await alice.command("set_line_source", line=show["ada"], source="srt://10.20.0.5:9000"))["type"] == "ack"
    refusal = await alice.command("set_line_source", line=show["ada"], source="srt://93.184.216.34:9000")
    assert refusal["error"]["message"].startswith("93.184.216.34 is a public address outside the networks")
    assert alice.state["lines"][show["ada"]]["source"] == "srt://10.20.0.5:9000"
    await alice.close()


async def test_why_the_mixer_refused_a_line_reaches_the_console_and_clears_when_it_plays(show):
    alice = await Console(show["event"], show["alice"]).open()
    reason = "encoder.example resolves to 10.0.0.7, a private address: lines may not reach it on this server."
    fact = {"type": "set_line_health", "line": show["ada"], "health": "faulted", "fault": reason}
    assert (await apply_and_broadcast(show["event"], fact, actor="mixer", role="mixer")).applied
    line = (await alice.until_state(lambda s: s["lines"][show["ada"]]["health"] == "faulted"))["lines"][show["ada"]]
    assert (line["health"], line["fault"]) == ("faulted", reason)
    fact = {"type": "set_line_health", "line": show["ada"], "health": "ok"}
    assert (await apply_and_broadcast(show["event"], fact, actor="mixer", role="mixer")).applied
    line = (await alice.until_state(lambda s: s["lines"][show["ada"]]["health"] == "ok"))["lines"][show["ada"]]
    assert line["fault"] is None
    await alice.close()


async def test_a_retried_command_is_applied_once(show):
    alice = await Console(show["event"], show["alice"]).open()
    await alice.send("cue", version=0, client_id="cue-1", to="all", kind="on")
    first = await alice.until("ack")
    await alice.send("cue", version=0, client_id="cue-1", to="all", kind="on")
    second = await alice.until("ack")
    assert (first["applied"], first["duplicate"], first["version"]) == (True, False, 1)
    assert (second["applied"], second["duplicate"], second["version"]) == (False, True, 1)
    assert list(alice.state["cues"]) == ["c1"]
    assert await database_sync_to_async(log_versions)(show["event"]) == [1]
    await alice.close()


@pytest.mark.parametrize("who", ["carol", "dave", None])
async def test_only_producers_of_the_event_get_a_console(show, who):
    console = Console(show["event"], show[who] if who else None)
    connected, _ = await console.socket.connect()
    assert connected  # accepted, then closed with a reason, so the page stops retrying
    assert await refusal_of(console.socket) == (
        {"code": "forbidden", "field": None, "message": "Only this event's producers may open its console."},
        4403,
    )
    assert fanout.local_sockets(show["event"]) == 0
    await console.socket.disconnect()


async def test_a_foreign_origin_is_rejected(show):
    console = Console(show["event"], show["alice"], origin=(b"origin", b"http://evil.example"))
    connected, code = await console.socket.connect()
    assert (connected, code) == (False, 1000)


async def test_malformed_json_is_answered_with_a_typed_error(show):
    alice = await Console(show["event"], show["alice"]).open()
    await alice.socket.send_to("{not json")
    assert await alice.next() == {
        "type": "error",
        "error": {"code": "malformed", "field": None, "message": "Not valid JSON."},
    }
    await alice.socket.send_to('["go_live"]')
    assert (await alice.next())["error"]["message"] == "A command is a JSON object."
    await alice.socket.send_to("x" * (16 * 1024 + 1))
    assert (await alice.next())["error"]["code"] == "malformed"
    await alice.close()


async def test_an_unknown_field_is_refused_naming_it_and_changes_nothing(show):
    alice = await Console(show["event"], show["alice"]).open()
    client_id = await alice.send("set_mute", line=show["ada"], muted=True, volume=11)
    assert await alice.next() == {
        "type": "refused",
        "client_id": client_id,
        "error": {"code": "unknown_field", "field": "volume", "message": "Unknown field 'volume'."},
    }
    client_id = await alice.send("set_gain", line=show["ada"], gain_db=40)
    refusal = await alice.next()
    assert (refusal["client_id"], refusal["error"]["code"], refusal["error"]["field"]) == (
        client_id,
        "out_of_range",
        "gain_db",
    )
    assert (await database_sync_to_async(store.snapshot)(show["event"]))["version"] == 0
    await alice.close()


async def test_a_producer_may_not_send_what_belongs_to_the_mixer_or_presenters(show, caplog):
    alice = await Console(show["event"], show["alice"]).open()
    await alice.send("set_line_health", line=show["ada"], health="ok")
    refusal = await alice.until("refused")
    assert refusal["error"] == {
        "code": "forbidden",
        "field": "type",
        "message": "A producer may not send set_line_health.",
    }
    assert "refused a command from user:alice" in caplog.text
    assert (await database_sync_to_async(store.snapshot)(show["event"]))["version"] == 0
    await alice.close()


async def test_a_command_the_state_does_not_allow_is_refused_with_its_reason(show):
    alice = await Console(show["event"], show["alice"]).open()
    refusal = await alice.command("end_show")
    assert refusal["error"] == {"code": "wrong_phase", "field": "type", "message": "Not possible during preshow."}
    assert "state" not in refusal
    await alice.close()


async def test_a_reconnecting_console_gets_the_current_snapshot(show):
    alice = await Console(show["event"], show["alice"]).open()
    await alice.close()
    bob = await Console(show["event"], show["bob"]).open()
    await bob.command("go_live")
    await bob.command("set_on_air", line=show["bea"], on_air=True)
    alice = await Console(show["event"], show["alice"]).open()
    assert alice.state == bob.state and alice.state["version"] == 2
    assert [entry["type"] for entry in alice.audit] == ["go_live", "set_on_air"]
    await alice.socket.send_to(json.dumps({"type": "snapshot"}))
    again = await alice.next()
    assert (again["type"], again["version"], again["state"]) == ("snapshot", 2, bob.state)
    await alice.close()
    await bob.close()


async def test_mixer_meters_reach_every_console_as_they_were_sent(show):
    alice = await Console(show["event"], show["alice"]).open()
    bob = await Console(show["event"], show["bob"]).open()
    program = {"peak_db": -6.5, "rms_db": -18.0, "momentary_lufs": -20.1, "short_term_lufs": None, "gain_db": 0.0}
    line = {"peak_db": -6.5, "rms_db": -18.0, "health": "ok", "gaps": 0}
    report = {"type": "meters", "lines": {show["ada"]: line}, "program": program, "fallback": False, "public": True}
    await get_channel_layer().group_send(meters_group(show["event"]), {"type": "mixer.report", "report": report})
    assert await alice.next() == report
    assert await bob.next() == report
    await alice.close()
    await bob.close()


async def test_one_subscription_per_process_and_event_however_many_consoles(show):
    consoles = [await Console(show["event"], show["alice"]).open() for _ in range(5)]
    assert fanout.local_sockets(show["event"]) == 5
    assert await group_size(stage_group(show["event"])) == 1
    await consoles[0].command("go_live")
    for console in consoles[1:]:
        assert (await console.until("delta"))["version"] == 1
    for console in consoles:
        await console.close()
    assert fanout.local_sockets(show["event"]) == 0
    assert await group_size(stage_group(show["event"])) == 0


async def group_size(group: str) -> int:
    layer = get_channel_layer()
    if hasattr(layer, "groups"):  # in-memory
        return len(layer.groups.get(group, {}))
    connection = layer.connection(layer.consistent_hash(group))
    return await connection.zcard(layer._group_key(group))
