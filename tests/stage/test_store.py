"""The persisted stage: versions, idempotency, facts at the head, the audit log and its replay."""

import json
import logging
from datetime import timedelta

import pytest

from events.models import Segment
from stage import store
from stage.broadcast import push_message
from stage.models import StageLogEntry, StageState
from stage.signals import stage_changed
from tests.factories import make_event, make_tone_presenter

pytestmark = [pytest.mark.both_modes, pytest.mark.django_db(transaction=True)]

T0 = 1_800_000_000.0


@pytest.fixture
def event():
    event = make_event("store-show")
    ada = make_tone_presenter(event, "Ada", 440, position=1)
    bea = make_tone_presenter(event, "Bea", 880, position=2)
    Segment.objects.create(
        event=event, title="Welcome", position=1, planned_duration=timedelta(minutes=5)
    ).presenters.add(ada)
    Segment.objects.create(event=event, title="Panel", position=2).presenters.add(ada, bea)
    return event


class Producer:
    def __init__(self, event_id: int, actor: str = "user:pat"):
        self.event_id, self.actor, self.sent, self.now = event_id, actor, 0, T0

    def __call__(self, type_: str, *, version: int | None = None, **fields) -> store.Outcome:
        self.sent += 1
        self.now += 2.5
        version = store.snapshot(self.event_id)["version"] if version is None else version
        command = {"type": type_, "version": version, "client_id": f"{self.actor}-{self.sent}"} | fields
        return store.submit(self.event_id, command, actor=self.actor, now=self.now)


def test_the_stage_is_seeded_from_the_presenters_and_run_of_show(event):
    state = store.snapshot(event.pk)
    ada, bea = (p.line_id for p in event.presenters.all())
    welcome, panel = (f"s{s.pk}" for s in event.segments.all())
    assert state["rundown"] == [welcome, panel]
    assert state["segments"][welcome]["planned_seconds"] == 300
    assert state["segments"][panel]["presenters"] == [ada, bea]
    assert state["presenters"][bea] == {
        "name": "Bea",
        "line": bea,
        "connected": False,
        "checked_in": False,
        "ready": False,
        "status": "ok",
    }


def test_until_the_first_command_the_stage_follows_roster_edits_then_keeps_its_own(event):
    store.snapshot(event.pk)
    late = make_tone_presenter(event, "Late", 660, position=3)
    assert late.line_id in store.snapshot(event.pk)["presenters"]
    do = Producer(event.pk)
    assert do("go_live").applied
    later = make_tone_presenter(event, "Later", 770, position=4)
    assert later.line_id not in store.snapshot(event.pk)["presenters"]
    stage = StageState.objects.get(event=event)
    assert late.line_id in stage.initial_document["presenters"]


def test_every_applied_command_is_logged_and_replay_rebuilds_the_state_exactly(event):
    do = Producer(event.pk)
    ada = event.presenters.first().line_id
    for type_, fields in [
        ("start_rehearsal", {}),
        ("next", {}),
        ("take", {}),
        ("go_live", {}),
        ("next", {}),
        ("take", {}),
        ("set_gain", {"line": ada, "gain_db": -4.5}),
        ("cue", {"to": "all", "kind": "wrap_up", "seconds": 30}),
        ("message", {"presenter": ada, "text": "Great"}),
        ("add_segment", {"title": "Q&A", "presenters": [ada], "planned_seconds": 120}),
        ("next", {}),
        ("take", {}),
        ("end_show", {}),
    ]:
        assert do(type_, **fields).applied, type_
    store.submit(event.pk, {"type": "set_line_health", "line": ada, "health": "ok"}, actor="mixer", role="mixer")
    state = store.snapshot(event.pk)
    assert state["version"] == 14
    assert list(StageLogEntry.objects.filter(event=event).values_list("version", flat=True)) == list(range(1, 15))
    assert store.replay(event.pk) == state
    chapters = list(StageLogEntry.objects.filter(event=event).exclude(chapter="").values_list("chapter", flat=True))
    assert chapters == ["Welcome", "Welcome", "Panel"]
    assert StageLogEntry.objects.get(event=event, version=14).role == "mixer"


def test_a_stale_command_is_refused_with_the_state_and_logged(event, caplog):
    do = Producer(event.pk)
    do("go_live")
    with caplog.at_level(logging.WARNING, logger="stage.store"):
        outcome = do("set_hold", version=0, hold=True)
    assert outcome.applied is False and outcome.error["code"] == "stale_version"
    assert outcome.state["version"] == 1 and outcome.state["hold"] is False
    assert f"stage {event.pk} refused set_hold from user:pat: stale_version" in caplog.text
    assert StageLogEntry.objects.filter(event=event).count() == 1


def test_a_version_from_the_future_is_stale(event):
    assert Producer(event.pk)("go_live", version=3).error["code"] == "stale_version"


def test_facts_apply_at_the_head_and_keep_producers_current(event):
    do = Producer(event.pk)
    ada = event.presenters.first().line_id
    for health in ("connecting", "ok", "silent"):
        outcome = store.submit(
            event.pk, {"type": "set_line_health", "line": ada, "health": health}, actor="mixer", role="mixer"
        )
        assert outcome.applied
    assert do("go_live", version=0).applied
    # A decision since then does make an old version stale.
    assert do("set_hold", version=3, hold=True).error["code"] == "stale_version"


def test_a_fact_that_changes_nothing_is_not_logged(event):
    ada = event.presenters.first().line_id
    fact = {"type": "set_line_health", "line": ada, "health": "ok"}
    assert store.submit(event.pk, dict(fact), actor="mixer", role="mixer").applied
    outcome = store.submit(event.pk, dict(fact), actor="mixer", role="mixer")
    assert (outcome.applied, outcome.error, outcome.state["version"]) == (False, None, 1)
    assert StageLogEntry.objects.filter(event=event).count() == 1


def test_stage_changed_is_sent_after_commit_with_the_new_state(event):
    received = []

    def listener(sender, *, event_id, state, **kwargs):
        received.append((event_id, state["version"], StageState.objects.get(event_id=event_id).version))

    stage_changed.connect(listener)
    try:
        Producer(event.pk)("go_live")
    finally:
        stage_changed.disconnect(listener)
    assert received == [(event.pk, 1, 1)]


def test_a_push_is_serialised_once_per_audience_and_chat_goes_to_its_presenter_alone(event):
    do = Producer(event.pk)
    ada = event.presenters.first().line_id
    outcome = do("message", presenter=ada, text="You are next")
    message = push_message(outcome)
    assert set(message) == {"type", "version", "console", "greenroom", "private"}
    console, greenroom = json.loads(message["console"]), json.loads(message["greenroom"])
    assert console["set"] == {"messages.m1": outcome.state["messages"]["m1"], "serial": 1}
    assert console["audit"]["type"] == "message" and console["happenings"][0]["type"] == "message"
    assert (greenroom["set"], greenroom["unset"], greenroom["happenings"]) == ({"serial": 1}, [], [])
    assert "audit" not in greenroom and (greenroom["version"], greenroom["base"]) == (1, 0)
    assert json.loads(message["private"][ada]) == {
        "type": "message",
        "message": {
            "id": "m1",
            "presenter": ada,
            "from": "producer",
            "by": "user:pat",
            "text": "You are next",
            "at": T0 + 2.5,
        },
    }
