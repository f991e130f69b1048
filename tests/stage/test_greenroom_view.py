"""What presenters get of the stage: the show without the private chat and the Q&A queue, and of
each line only what the green room shows. A line's source may hold a stream key or a password,
so the green room gets the kind of input it is (worked out on the server), in snapshots and in
deltas alike, never the source, its format or the mixer's fault text."""

import json

import pytest

from stage.broadcast import push_message
from stage.projections import greenroom_view
from stage.sources.kinds import source_kind
from stage.store import Outcome
from tests.stage.show import Show

SECRET = "sk-7f3c9a0e"
URL = f"rtmp://publish:{SECRET}@encoder.example/live/{SECRET}"


def applied(show: Show, type_: str, **fields) -> dict:
    """The layer message the command's push makes, as stage/broadcast.py sends it."""
    previous = show.state
    happenings = show.do(type_, **fields)
    entry = {"version": show.state["version"], "actor": "user:pat", "role": "producer", "type": type_,
             "details": fields, "at": show.now, "chapter": ""}
    return push_message(Outcome(state=show.state, happenings=happenings, applied=True, previous=previous, entry=entry))


def test_the_green_room_sees_the_kind_of_a_lines_input_never_its_source_or_fault():
    show = Show()
    show.do("set_line_source", line="p2", source=URL, format="flv")
    show.do("set_line_health", role="mixer", actor="mixer", line="p2", health="faulted", fault=f"{URL} was refused")
    view = greenroom_view(show.state)
    assert view["lines"]["p2"] == {
        "presenter": "p2",
        "on_air": False,
        "muted": False,
        "health": "faulted",
        "source_kind": "encoder",
    }
    assert view["lines"]["p1"]["source_kind"] == "browser"
    assert SECRET not in json.dumps(view)
    assert "messages" not in view and "questions" not in view
    assert show.state["lines"]["p2"]["source"] == URL  # the console still has it


def test_a_green_room_delta_after_set_line_source_never_holds_the_secret():
    show = Show()
    push = applied(show, "set_line_source", line="p2", source=URL, format="flv")
    greenroom = json.loads(push["greenroom"])
    assert greenroom["set"] == {
        "lines.p2": {"presenter": "p2", "on_air": False, "muted": False, "health": "unknown", "source_kind": "encoder"}
    }
    assert greenroom["happenings"] == [{"type": "line", "line": "p2"}]
    assert SECRET not in push["greenroom"]
    assert SECRET in push["console"]
    fault = applied(show, "set_line_health", role="mixer", line="p2", health="faulted", fault=f"{URL} was refused")
    assert json.loads(fault["greenroom"])["set"] == {"lines.p2": greenroom["set"]["lines.p2"] | {"health": "faulted"}}
    assert SECRET not in fault["greenroom"]


def test_a_change_the_green_room_does_not_see_gives_it_an_empty_delta():
    show = Show()
    push = applied(show, "set_gain", line="p1", gain_db=-6.0)
    greenroom = json.loads(push["greenroom"])
    assert (greenroom["set"], greenroom["unset"], greenroom["happenings"]) == ({}, [], [{"type": "line", "line": "p1"}])
    assert (greenroom["version"], greenroom["base"]) == (1, 0)


@pytest.mark.parametrize(
    ("source", "format", "kind"),
    [
        (None, None, "browser"),
        ("rtmp://encoder.example/live/key", None, "encoder"),
        ("RTMPS://encoder.example/live/key", None, "encoder"),
        ("srt://encoder.example:9000?passphrase=key", None, "encoder"),
        ("udp://239.69.1.1:5004", "mpegts", "encoder"),
        ("rtp://203.0.113.9:5004", None, "dial_in"),
        ("/srv/media/studio.sdp", "sdp", "dial_in"),
        ("https://radio.example/stream.aac", None, "stream"),
        ("sine=frequency=440:sample_rate=48000", "lavfi", "test_tone"),
        ("/srv/media/walk-in.mp3", None, "file"),
        ("file:///srv/media/walk-in.mp3", None, "file"),
        ("gopher://old.example/", None, "other"),
    ],
)
def test_a_sources_kind_comes_from_its_scheme(source, format, kind):
    assert source_kind(source, format) == kind
