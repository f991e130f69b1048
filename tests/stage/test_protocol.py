"""Every command is validated on entry: unknown fields, wrong types and out-of-range values are
refused with a typed error naming the field; roles decide who may send what."""

import pytest

from stage.contract.commands import (
    COMMANDS,
    MIXER,
    PRESENTER,
    PRODUCER,
    SYSTEM,
    VIEWER,
    ProtocolError,
    authorise,
    presenter_actor,
    validate_command,
)
from stage.contract.messages import CONSOLE, validate_server_message
from stage.sources.policy import SourcePolicy

ENVELOPE = {"version": 3, "client_id": "abc"}


def refusal(message, role=PRODUCER) -> tuple[str, str | None]:
    with pytest.raises(ProtocolError) as caught:
        validate_command(message, role)
    return caught.value.code, caught.value.field


def test_a_valid_command_is_returned_as_it_is():
    command = {"type": "set_gain", "line": "p1", "gain_db": -3.5} | ENVELOPE
    assert validate_command(command) is command


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ([], ("malformed", None)),
        ({"version": 1, "client_id": "a"}, ("missing_field", "type")),
        ({"type": 7} | ENVELOPE, ("wrong_type", "type")),
        ({"type": "launch_rockets"} | ENVELOPE, ("unknown_command", "type")),
        ({"type": "go_live", "client_id": "a"}, ("missing_field", "version")),
        ({"type": "go_live", "version": 1}, ("missing_field", "client_id")),
        ({"type": "go_live", "version": -1, "client_id": "a"}, ("out_of_range", "version")),
        ({"type": "go_live", "version": True, "client_id": "a"}, ("wrong_type", "version")),
        ({"type": "go_live", "version": 1.0, "client_id": "a"}, ("wrong_type", "version")),
        ({"type": "go_live", "version": 1, "client_id": ""}, ("out_of_range", "client_id")),
        ({"type": "go_live", "version": 1, "client_id": "x" * 65}, ("out_of_range", "client_id")),
        ({"type": "go_live", "colour": "red"} | ENVELOPE, ("unknown_field", "colour")),
        ({"type": "set_on_air", "line": "p1"} | ENVELOPE, ("missing_field", "on_air")),
        ({"type": "set_on_air", "line": "p1", "on_air": 1} | ENVELOPE, ("wrong_type", "on_air")),
        ({"type": "set_on_air", "line": "p1", "on_air": "true"} | ENVELOPE, ("wrong_type", "on_air")),
        ({"type": "set_gain", "line": "p1", "gain_db": 12.5} | ENVELOPE, ("out_of_range", "gain_db")),
        ({"type": "set_gain", "line": "p1", "gain_db": -61} | ENVELOPE, ("out_of_range", "gain_db")),
        ({"type": "set_gain", "line": "p1", "gain_db": float("nan")} | ENVELOPE, ("out_of_range", "gain_db")),
        ({"type": "set_gain", "line": "p1", "gain_db": float("inf")} | ENVELOPE, ("out_of_range", "gain_db")),
        ({"type": "set_gain", "line": "p1", "gain_db": True} | ENVELOPE, ("wrong_type", "gain_db")),
        ({"type": "set_gain", "line": "p1", "gain_db": "3"} | ENVELOPE, ("wrong_type", "gain_db")),
        ({"type": "set_gain", "line": 1, "gain_db": 3} | ENVELOPE, ("wrong_type", "line")),
        ({"type": "set_gain", "line": "   ", "gain_db": 3} | ENVELOPE, ("out_of_range", "line")),
        ({"type": "set_fallback", "source": "jazz"} | ENVELOPE, ("out_of_range", "source")),
        ({"type": "set_preview", "presenters": "p1"} | ENVELOPE, ("wrong_type", "presenters")),
        ({"type": "set_preview", "presenters": ["p1", 2]} | ENVELOPE, ("wrong_type", "presenters[1]")),
        ({"type": "set_preview", "presenters": ["p1", "p1"]} | ENVELOPE, ("out_of_range", "presenters")),
        ({"type": "set_preview", "presenters": ["a", "b", "c", "d", "e"]} | ENVELOPE, ("out_of_range", "presenters")),
        ({"type": "move_segment", "segment": "s1"} | ENVELOPE, ("missing_field", "before")),
        ({"type": "move_segment", "segment": None, "before": None} | ENVELOPE, ("wrong_type", "segment")),
        (
            {"type": "add_segment", "title": "T", "presenters": [], "planned_seconds": 0} | ENVELOPE,
            ("out_of_range", "planned_seconds"),
        ),
        (
            {"type": "add_segment", "title": "T" * 201, "presenters": [], "planned_seconds": 5} | ENVELOPE,
            ("out_of_range", "title"),
        ),
        ({"type": "update_segment", "segment": "s1"} | ENVELOPE, ("missing_field", "title")),
        ({"type": "cue", "to": "p1", "kind": "wrap_up"} | ENVELOPE, ("missing_field", "seconds")),
        ({"type": "cue", "to": "p1", "kind": "on", "seconds": 5} | ENVELOPE, ("unknown_field", "seconds")),
        ({"type": "cue", "to": "p1", "kind": "custom"} | ENVELOPE, ("missing_field", "text")),
        ({"type": "cue", "to": "p1", "kind": "wrap_up", "seconds": 0} | ENVELOPE, ("out_of_range", "seconds")),
        ({"type": "cue", "to": "p1", "kind": "dance"} | ENVELOPE, ("out_of_range", "kind")),
        ({"type": "message", "presenter": "p1", "text": "x" * 501} | ENVELOPE, ("out_of_range", "text")),
        ({"type": "set_question_status", "question": "q1", "status": "loved"} | ENVELOPE, ("out_of_range", "status")),
        # JSONB refuses both: the state could not be saved after the command was accepted.
        ({"type": "message", "presenter": "p1", "text": "hi\x00"} | ENVELOPE, ("bad_text", "text")),
        ({"type": "ask_question", "text": "why \ud800?"} | ENVELOPE, ("bad_text", "text")),
        ({"type": "go_live", "version": 1, "client_id": "a\x00"}, ("bad_text", "client_id")),
    ],
)
def test_invalid_commands_are_refused_naming_the_field(message, expected):
    assert refusal(message) == expected


@pytest.mark.parametrize("key", ["\x00", "a\ud800"])
def test_an_unknown_field_with_a_name_the_wire_refuses_is_named_back_escaped(key):
    """The refusal is itself a server message: it must pass the contract it names (found by the fuzz test)."""
    code, field = refusal({"type": "go_live", key: None} | ENVELOPE)
    assert (code, field) == ("unknown_field", ascii(key)[1:-1])
    refused = {"type": "refused", "client_id": "abc", "error": {"code": code, "field": field, "message": "m"}}
    assert validate_server_message(refused, CONSOLE) == refused


def test_facts_need_no_version_or_client_id_but_still_their_fields():
    assert validate_command({"type": "set_line_health", "line": "p1", "health": "ok"}, MIXER)
    assert refusal({"type": "set_line_health", "line": "p1", "health": "great"}, MIXER) == ("out_of_range", "health")
    assert refusal({"type": "set_presence", "presenter": "p1"}, SYSTEM) == ("missing_field", "connected")
    # Producers and presenters always say which version they saw.
    assert refusal({"type": "set_line_health", "line": "p1", "health": "ok"}, PRODUCER) == ("missing_field", "version")


@pytest.mark.parametrize(
    ("role", "command", "allowed"),
    [
        (PRODUCER, "go_live", True),
        (PRODUCER, "set_line_health", False),
        (PRODUCER, "ack_cue", False),
        (PRODUCER, "set_presence", False),
        (PRESENTER, "go_live", False),
        (PRESENTER, "take", False),
        (PRESENTER, "set_gain", False),
        (PRESENTER, "set_ready", True),
        (MIXER, "set_line_health", True),
        (MIXER, "set_on_air", False),
        (SYSTEM, "set_presence", True),
        (SYSTEM, "go_live", False),
        (VIEWER, "ask_question", True),
        (VIEWER, "set_question_status", False),
    ],
)
def test_roles_decide_who_may_send_what(role, command, allowed):
    assert (role in COMMANDS[command].roles) is allowed


def test_a_presenter_may_only_act_for_themselves():
    own = {"type": "set_ready", "presenter": "p1", "ready": True} | ENVELOPE
    assert authorise(PRESENTER, "presenter:p1", own) is None
    error = authorise(PRESENTER, "presenter:p2", own)
    assert (error.code, error.field) == ("forbidden", "presenter")
    assert authorise(PRODUCER, "user:pat", own) is None
    error = authorise(PRESENTER, "presenter:p1", {"type": "take"} | ENVELOPE)
    assert (error.code, error.field) == ("forbidden", "type")


def set_line_source(source, **fields) -> dict:
    return {"type": "set_line_source", "version": 0, "client_id": "c", "line": "p1", "source": source} | fields


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("concat:/etc/passwd|/etc/hosts", "Unsupported source"),
        ("srt://:9000", "names a host"),
        ("rtmp://encoder.example:99999/live", "port"),
        ("file://host/etc/passwd", "absolute path"),
        ("http://a.example/x y", "no spaces"),
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a link-local address"),
        ("rtmp://127.0.0.1/live/key", "127.0.0.1 is a loopback address"),
        ("/srv/media/rtp.sdp", "File sources are off on this server"),
    ],
)
def test_a_line_source_is_checked_before_it_is_accepted(source, message):
    with pytest.raises(ProtocolError) as refusal:
        validate_command(set_line_source(source))
    assert refusal.value.code == "invalid_source" and refusal.value.field == "source"
    assert message in refusal.value.message


@pytest.mark.parametrize("source", ["srt://encoder.example:9000?mode=listener", "rtmp://93.184.216.34/live/key", None])
def test_encoder_and_dial_in_sources_are_accepted_by_the_default_policy(source):
    command = set_line_source(source)
    assert validate_command(command) == command


def test_the_operators_policy_decides_what_a_producer_may_give(tmp_path):
    studio = SourcePolicy.from_config(networks=["10.20.0.0/16"], media_root=tmp_path)
    for source in ("rtmp://10.20.0.5/live/key", f"{tmp_path}/rtp.sdp", "srt://encoder.example:9000"):
        validate_command(set_line_source(source), PRODUCER, studio)
    with pytest.raises(ProtocolError) as public:
        validate_command(set_line_source("rtmp://93.184.216.34/live/key"), PRODUCER, studio)
    assert public.value.message == (
        "93.184.216.34 is a public address outside the networks this server lists: "
        "lines may not reach it on this server."
    )
    with pytest.raises(ProtocolError) as outside:
        validate_command(set_line_source("/etc/passwd"), PRODUCER, studio)
    assert outside.value.message == f"/etc/passwd is outside the media folder {tmp_path}."


def test_a_producer_may_not_give_a_test_tone():
    assert refusal(set_line_source("sine=frequency=440", format="lavfi")) == ("out_of_range", "format")


def test_the_mixer_may_say_why_a_line_is_faulted():
    fact = {"type": "set_line_health", "line": "p1", "health": "faulted", "fault": "10.0.0.1 is a private address"}
    assert validate_command(fact, MIXER) == fact
    assert refusal(fact | {"fault": "x" * 501}, MIXER) == ("out_of_range", "fault")
    assert refusal(fact | {"fault": 3}, MIXER) == ("wrong_type", "fault")


def test_a_presenter_may_set_only_their_own_status():
    command = {"type": "set_status", "version": 0, "client_id": "c", "presenter": "p1", "status": "need_a_moment"}
    assert authorise(PRESENTER, presenter_actor("p1"), validate_command(command, PRESENTER)) is None
    assert authorise(PRESENTER, presenter_actor("p2"), command).field == "presenter"
    assert authorise(PRESENTER, presenter_actor("p1"), command | {"type": "send_question"}).code == "forbidden"
