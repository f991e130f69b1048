"""Talkback and backstage on the stage: who may send them, what they do to the state, what the
green room sees of them, what the mixer takes from them, and states persisted before them."""

import json

import pytest
from channels.db import database_sync_to_async

from stage import machine, store
from stage.broadcast import push_message
from stage.contract.commands import authorise, validate_command
from stage.contract.messages import validate_server_message
from stage.contract.records import CONSOLE, GREENROOM
from stage.models import StageState
from stage.projections import greenroom_view
from stage.store import Outcome
from streaming.stage_link import mix_settings
from tests.factories import make_event, make_producer, make_tone_presenter
from tests.stage.show import Show
from tests.stage.sockets import Console, session_cookie


def live_show() -> Show:
    show = Show()
    show.do("go_live")
    show.do("set_preview", presenters=["p1", "p2"])
    show.do("take")
    return show


def test_a_producer_talks_to_some_presenters_or_all_and_stops():
    show = live_show()
    assert show.do("set_talkback", presenters=["p3"], all=False, actor="user:pat") == [
        {"type": "talkback", "presenters": ["p3"]}
    ]
    show.do("set_talkback", presenters=[], all=True, actor="user:kim")
    assert show.state["talkback"] == {
        "user:pat": {"presenters": ["p3"], "all": False},
        "user:kim": {"presenters": [], "all": True},
    }
    show.do("set_talkback", presenters=[], all=False, actor="user:kim")
    assert show.state["talkback"] == {"user:pat": {"presenters": ["p3"], "all": False}}
    # Stopping when not talking changes nothing.
    before = show.state
    show.do("set_talkback", presenters=[], all=False, actor="user:kim")
    assert show.state is before
    assert show.refused("set_talkback", presenters=["p9"], all=False).code == "unknown_presenter"
    show.do("end_show")
    assert show.state["talkback"] == {}


def test_the_system_only_stops_a_producers_talkback():
    show = live_show()
    show.do("set_talkback", presenters=["p3"], all=False, actor="user:pat")
    refusal = show.refused("set_talkback", presenters=["p3"], all=False, role="system", actor="user:pat")
    assert refusal.code == "forbidden"
    show.do("set_talkback", presenters=[], all=False, role="system", actor="user:pat")
    assert show.state["talkback"] == {}


def test_presenters_and_viewers_may_send_neither_command():
    talk = {"type": "set_talkback", "presenters": ["p1"], "all": False, "version": 0, "client_id": "a"}
    backstage = {"type": "set_backstage", "presenter": "p1", "open": True, "version": 0, "client_id": "b"}
    for command in (talk, backstage):
        validate_command(command)
        assert authorise("producer", "user:pat", command) is None
        for role, actor in (("presenter", "presenter:p1"), ("viewer", "viewer:x"), ("mixer", "mixer")):
            assert authorise(role, actor, command).code == "forbidden"
    assert authorise("system", "user:pat", talk) is None
    assert authorise("system", "user:pat", backstage).code == "forbidden"


def test_backstage_opens_to_on_air_presenters_and_closes_when_they_leave_the_air():
    show = live_show()
    assert show.refused("set_backstage", presenter="p3", open=True).code == "not_on_air"
    opened = show.do("set_backstage", presenter="p1", open=True)
    assert opened == [{"type": "backstage", "presenter": "p1", "open": True}]
    show.do("set_backstage", presenter="p2", open=True)
    assert show.state["backstage_open"] == ["p1", "p2"]
    show.do("send_to_green_room", presenter="p1")
    assert show.state["backstage_open"] == ["p2"]
    show.do("set_presence", presenter="p2", connected=True, role="system", actor="presenter:p2")
    show.do("set_presence", presenter="p2", connected=False, role="system", actor="presenter:p2")
    assert show.state["backstage_open"] == []
    show.do("set_preview", presenters=["p3"])
    show.do("take")
    show.do("set_backstage", presenter="p3", open=True)
    show.do("set_backstage", presenter="p3", open=False)
    assert show.state["backstage_open"] == []


def test_the_green_room_sees_whom_a_producer_talks_to_never_who():
    show = live_show()
    previous = show.state
    happenings = show.do("set_talkback", presenters=["p2", "p3"], all=False, actor="user:pat")
    view = greenroom_view(show.state)
    assert view["talkback_to"] == ["p2", "p3"] and "talkback" not in view
    entry = {"version": show.state["version"], "actor": "user:pat", "role": "producer", "type": "set_talkback",
             "details": {"presenters": ["p2", "p3"], "all": False}, "at": show.now, "chapter": ""}
    push = push_message(Outcome(state=show.state, happenings=happenings, applied=True, previous=previous, entry=entry))
    greenroom = json.loads(push[GREENROOM])
    validate_server_message(greenroom, GREENROOM)
    validate_server_message(json.loads(push[CONSOLE]), CONSOLE)
    assert greenroom["set"] == {"talkback_to": ["p2", "p3"]}
    assert "user:pat" not in push[GREENROOM]
    show.do("set_talkback", presenters=[], all=True, actor="user:kim")
    assert greenroom_view(show.state)["talkback_to"] == ["p1", "p2", "p3", "p4", "p5"]
    snapshot = {"type": "snapshot", "version": show.state["version"], "server_time": 1.0, "conversation": []}
    validate_server_message(snapshot | {"state": greenroom_view(show.state)}, GREENROOM)
    assert "user:kim" not in json.dumps(greenroom_view(show.state))


def test_the_mixer_gets_the_returns_plan_from_the_stage():
    show = live_show()
    show.do("set_mute", line="p2", muted=True)
    show.do("set_preview", presenters=["p3"])
    show.do("set_backstage", presenter="p1", open=True)
    show.do("set_talkback", presenters=["p4"], all=False, actor="user:pat")
    show.do("set_talkback", presenters=[], all=True, actor="user:kim")
    returns = mix_settings(show.state).returns
    # A muted line is not mixed: its presenter is backstage.
    assert returns.on_air == {"p1"}
    assert returns.preview == {"p3"} and returns.backstage_open == {"p1"}
    assert returns.talkback == {"user:pat": {"p4"}, "user:kim": {"p1", "p2", "p3", "p4", "p5"}}
    assert returns.duck_db == -15.0


def old_state() -> dict:
    """A state as persisted before talkback and backstage existed."""
    state = live_show().state
    del state["talkback"], state["backstage_open"]
    return state


def test_a_state_persisted_before_talkback_applies_and_projects():
    state = old_state()
    unchanged, happenings = machine.apply(state, {"type": "set_talkback", "presenters": [], "all": False}, now=1.0)
    assert unchanged is state and happenings == []
    new, _ = machine.apply(state, {"type": "set_hold", "hold": True}, now=1.0)
    assert new["talkback"] == {} and new["backstage_open"] == [] and new["version"] == state["version"] + 1
    snapshot = {"type": "snapshot", "version": state["version"], "server_time": 1.0, "conversation": []}
    validate_server_message(snapshot | {"state": greenroom_view(state)}, GREENROOM)
    assert mix_settings(state).returns.talkback == {}


@pytest.mark.django_db
def test_a_persisted_state_without_the_new_keys_loads_and_takes_commands():
    event = make_event("old-state")
    make_tone_presenter(event, "Ada", 440)
    stage = store.load_state(event)
    document = dict(stage.document)
    del document["talkback"], document["backstage_open"]
    StageState.objects.filter(pk=stage.pk).update(document=document)
    state = store.snapshot(event.pk)
    snapshot = {"type": "snapshot", "version": 0, "server_time": 1.0, "audit": []}
    validate_server_message(snapshot | {"state": state}, CONSOLE)
    talk = {"type": "set_talkback", "presenters": [], "all": True, "version": 0, "client_id": "t1"}
    outcome = store.submit(event.pk, talk, actor="user:pat")
    assert outcome.applied and outcome.state["talkback"] == {"user:pat": {"presenters": [], "all": True}}


@pytest.mark.django_db(transaction=True)
async def test_a_producers_talkback_stops_when_their_last_console_closes():
    @database_sync_to_async
    def setup():
        event = make_event("talkback-show")
        presenter = make_tone_presenter(event, "Ada", 440)
        return event.pk, presenter.line_id, session_cookie(make_producer(event, "alice"))

    event_id, ada, cookie = await setup()
    first = await Console(event_id, cookie).open()
    second = await Console(event_id, cookie).open()
    assert (await first.command("set_talkback", presenters=[ada], all=False))["applied"]
    await first.close()
    await second.until_state(lambda state: state["version"] == 1)
    assert second.state["talkback"] == {"user:alice": {"presenters": [ada], "all": False}}
    await second.close()
    state = await database_sync_to_async(store.snapshot)(event_id)
    assert state["talkback"] == {} and state["version"] == 2
