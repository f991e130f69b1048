"""The stage contract holds both ways: every message a scripted show makes validates for the
audience it goes to, a message the contract does not declare fails, the module the pages import
is the contract, and what the mixer and the README say agrees with it. (Every message the socket
tests receive is validated too: tests/messages.py.)"""

import json
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from stage.broadcast import push_message
from stage.contract.commands import COMMANDS
from stage.contract.enums import CARRYING_HEALTH, REPORTED_HEALTH
from stage.contract.errors import ProtocolError
from stage.contract.messages import MESSAGES, validate_server_message
from stage.contract.records import CONSOLE, GREENROOM
from stage.contract.signals import SIGNALS
from stage.projections import console_view, conversation, greenroom_view
from stage.store import Outcome
from streaming.core import lines, watch
from tests.messages import UPLINK
from tests.stage.show import Show

# A show that touches every part of the state: phases, the bridge, presenters, the run-of-show,
# cues, the chat, the Q&A and a poll. (command, fields, role, actor)
SCRIPT = [
    ("start_rehearsal", {}, "producer", "user:pat"),
    ("go_live", {}, "producer", "user:pat"),
    ("set_off_air_alarm", {"alarm": "dead_air", "active": True, "detail": "the program is silent while on air"},
     "monitor", "monitor"),
    ("set_presence", {"presenter": "p1", "connected": True}, "system", "presenter:p1"),
    ("set_check_in", {"presenter": "p1", "checked_in": True}, "presenter", "presenter:p1"),
    ("set_status", {"presenter": "p1", "status": "audio_problem"}, "presenter", "presenter:p1"),
    ("next", {}, "producer", "user:pat"),
    ("ack_cue", {"cue": "c1", "presenter": "p1"}, "presenter", "presenter:p1"),
    ("take", {}, "producer", "user:pat"),
    ("set_backstage", {"presenter": "p1", "open": True}, "producer", "user:pat"),
    ("set_talkback", {"presenters": ["p2"], "all": False}, "producer", "user:pat"),
    ("set_line_source", {"line": "p2", "source": "rtmp://encoder.example/live/sk-SECRET", "format": "flv"}, "producer",
     "user:pat"),
    ("set_line_health", {"line": "p2", "health": "faulted", "fault": "encoder.example is private"}, "mixer", "mixer"),
    ("set_output_health", {"health": "disk_full", "dropped": 1}, "mixer", "mixer"),
    ("set_gain", {"line": "p1", "gain_db": -3.0}, "producer", "user:pat"),
    ("set_mute", {"line": "p1", "muted": True}, "producer", "user:pat"),
    ("set_preview", {"presenters": ["p2"]}, "producer", "user:pat"),
    ("cue", {"to": "all", "kind": "wrap_up", "seconds": 30}, "producer", "user:pat"),
    ("message", {"presenter": "p1", "text": "Thirty seconds"}, "producer", "user:pat"),
    ("ask_question", {"text": "How loud?", "name": "Kim"}, "viewer", "registration:7"),
    ("set_question_status", {"question": "q4", "status": "approved"}, "producer", "user:pat"),
    ("send_question", {"question": "q4", "presenter": "p2"}, "producer", "user:pat"),
    ("add_poll", {"question": "Which city next?", "options": ["Oslo", "Lyon"]}, "producer", "user:pat"),
    ("set_poll_status", {"poll": "v6", "status": "open"}, "producer", "user:pat"),
    ("set_votes", {"questions": {"q4": 3}, "polls": {"v6": [2, 1]}}, "system", "system:votes"),
    ("show_poll_results", {"poll": "v6", "shown": True}, "producer", "user:pat"),
    ("set_poll_status", {"poll": "v6", "status": "closed"}, "producer", "user:pat"),
    ("add_segment", {"title": "Encore", "presenters": ["p3"], "planned_seconds": 60, "before": "s2"}, "producer",
     "user:pat"),
    ("move_segment", {"segment": "s3", "before": "s1"}, "producer", "user:pat"),
    ("skip_segment", {"segment": "s3", "skipped": True}, "producer", "user:pat"),
    ("clear_cue", {"cue": "c2"}, "producer", "user:pat"),
    ("set_hold", {"hold": True}, "producer", "user:pat"),
    ("set_fallback", {"source": "slate_tone"}, "producer", "user:pat"),
    ("send_to_green_room", {"presenter": "p1"}, "producer", "user:pat"),
    ("end_show", {}, "producer", "user:pat"),
]


def scripted_pushes():
    """Each step of the script as it reaches the consoles, the green rooms and one presenter."""
    show = Show()
    for index, (type_, fields, role, actor) in enumerate(SCRIPT):
        previous = show.state
        happenings = show.do(type_, role=role, actor=actor, **fields)
        assert show.state["version"] == previous["version"] + 1, type_
        entry = {"version": show.state["version"], "actor": actor, "role": role, "type": type_, "details": fields,
                 "at": show.now, "chapter": ""}
        outcome = Outcome(state=show.state, happenings=happenings, applied=True, previous=previous, entry=entry)
        yield index, show.state, push_message(outcome)


def test_every_push_of_a_whole_show_is_what_the_contract_declares():
    for _, _, push in scripted_pushes():
        validate_server_message(json.loads(push[CONSOLE]), CONSOLE)
        validate_server_message(json.loads(push[GREENROOM]), GREENROOM)
        for text in push["private"].values():
            validate_server_message(json.loads(text), GREENROOM)


def test_every_snapshot_of_a_whole_show_is_what_the_contract_declares():
    for _, state, _ in scripted_pushes():
        snapshot = {"type": "snapshot", "version": state["version"], "server_time": 1.5, "heartbeat": 3.0}
        validate_server_message(snapshot | {"state": console_view(state), "audit": []}, CONSOLE)
        view = greenroom_view(state)
        validate_server_message(snapshot | {"state": view, "conversation": conversation(state, "p1")}, GREENROOM)


def refusal(message, audience: str) -> tuple[str, str | None]:
    with pytest.raises(ProtocolError) as caught:
        validate_server_message(message, audience)
    return caught.value.code, caught.value.field


def test_a_message_the_contract_does_not_declare_fails_validation():
    state = Show().state
    error = {"code": "forbidden", "field": None, "message": "No."}
    assert refusal({"type": "launch_rockets"}, CONSOLE) == ("unknown_message", "type")
    status = {"type": "uplink", "receiving": True, "bytes": 1, "chunks": 1}
    validate_server_message(status, UPLINK)
    assert refusal(status, CONSOLE) == ("unknown_message", "type")
    assert refusal({"type": "fallback", "active": True}, GREENROOM) == ("unknown_message", "type")
    assert refusal({"type": "message", "message": {}}, CONSOLE) == ("unknown_message", "type")
    assert refusal([], UPLINK) == ("malformed", None)
    assert refusal({"type": "error", "error": error, "secret": 1}, UPLINK) == ("unknown_field", "secret")
    assert refusal({"type": "ack", "client_id": "a", "version": 1, "applied": True}, CONSOLE) == (
        "missing_field",
        "duplicate",
    )
    # The mixer never reports a line as "unknown": only the stage starts there.
    assert refusal({"type": "line_health", "line": "p1", "health": "unknown"}, CONSOLE) == ("out_of_range", "health")
    # The green room's state has no line sources, no chat and no Q&A queue.
    snapshot = {"type": "snapshot", "version": 0, "state": greenroom_view(state), "conversation": []}
    snapshot["server_time"], snapshot["heartbeat"] = 1.0, 3.0
    validate_server_message(snapshot, GREENROOM)
    leaky = json.loads(json.dumps(snapshot))
    leaky["state"]["lines"]["p1"]["source"] = "rtmp://x/live/key"
    assert refusal(leaky, GREENROOM) == ("unknown_field", "state.lines.p1.source")
    assert refusal(snapshot | {"state": state}, GREENROOM) == ("unknown_field", "state.messages")
    delta = {"type": "delta", "version": 2, "base": 1, "set": {}, "unset": [], "happenings": [], "server_time": 1.0}
    validate_server_message(delta, GREENROOM)
    assert refusal(delta | {"set": {"messages.m1": {}}}, GREENROOM) == ("unknown_field", "set.messages.m1")
    console_line = {"lines.p1": state["lines"]["p1"]}
    assert refusal(delta | {"set": console_line}, GREENROOM) == ("unknown_field", "set.lines.p1.label")
    assert refusal(delta | {"happenings": [{"type": "line", "line": "p1", "source": "x"}]}, GREENROOM) == (
        "unknown_field",
        "happenings[0].source",
    )
    assert refusal(delta | {"base": 0}, GREENROOM) == ("out_of_range", "version")


def test_the_readme_lists_each_audiences_messages_and_every_command():
    readme = (Path(settings.BASE_DIR) / "README.md").read_text()
    section = readme[readme.index("## The stage protocol") : readme.index("## Performance")]
    listed = {}
    for audience, kind in re.findall(r"^\| (console|greenroom|uplink) \| `(\w+)`", section, re.MULTILINE):
        listed.setdefault(audience, set()).add(kind)
    assert listed == {audience: set(messages) for audience, messages in MESSAGES.items()}
    commands = section[section.index("| command | fields | who |") : section.index("| signal | fields | who |")]
    rows = re.findall(r"^\| ([^|]+) \|", commands, re.MULTILINE)
    assert {name for row in rows[2:] for name in re.findall(r"`(\w+)`", row)} == set(COMMANDS)
    signals = section[section.index("| signal | fields | who |") :]
    rows = re.findall(r"^\| ([^|]+) \|", signals, re.MULTILINE)
    assert {name for row in rows[2:] for name in re.findall(r"`(\w+)`", row)} == set(SIGNALS)


def test_the_module_the_pages_import_is_the_contract():
    call_command("stage_contract", "--check")


def test_the_mixer_reports_the_line_health_the_contract_declares():
    """The mixer's core imports nothing of the stage, so its names are checked against the contract here."""
    reported = (lines.HEALTH_CONNECTING, lines.HEALTH_OK, lines.HEALTH_SILENT, lines.HEALTH_FAULTED)
    assert set(reported) == set(REPORTED_HEALTH)
    assert watch.CARRYING == CARRYING_HEALTH
