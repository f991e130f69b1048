"""The mixer lease: generations fence off duplicates and zombies; the watchdog finds lapsed leases."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from stage import store
from streaming import lease, worker
from streaming.models import MixerLease
from streaming.runners import events_needing_a_mixer, watch_once
from tests.factories import make_event, make_tone_presenter

pytestmark = [pytest.mark.both_modes, pytest.mark.django_db]


def go_live(event) -> None:
    outcome = store.submit(event.pk, {"type": "go_live", "version": 0, "client_id": "live"}, actor="t")
    assert outcome.applied


@pytest.mark.django_db(transaction=True)  # the mixer closes its connection when it gives up
def test_each_claim_is_the_next_generation_and_only_the_newest_may_publish(settings):
    settings.MIXER_LEASE_SECONDS = 10
    event = make_event("leased")
    assert lease.claim(event.pk, owner="queued") == 1
    assert lease.claim(event.pk, owner="queued") == 2  # a duplicate start: generation 1 is fenced off
    assert lease.start(event.pk, 1, "host:1") is False
    assert worker.run_mixer(event.pk, 1, lambda report: None) == "superseded"  # a late duplicate delivery
    assert lease.holds(event.pk, 1) is False and lease.renew(event.pk, 1) is False
    assert lease.start(event.pk, 2, "host:2") is True
    row = MixerLease.objects.get(event=event)
    assert (row.generation, row.owner) == (2, "host:2")
    assert timedelta(seconds=9) < row.expires_at - timezone.now() <= timedelta(seconds=10)
    assert lease.holds(event.pk, 2) and lease.renew(event.pk, 2)
    lease.release(event.pk, 2)
    assert lease.holds(event.pk, 2) is False and lease.is_lapsed(event.pk)


def test_a_lease_lapses_when_not_renewed(settings):
    settings.MIXER_LEASE_SECONDS = 0.2
    event = make_event("lapsing")
    generation = lease.claim(event.pk, owner="queued", seconds=0.2)
    assert lease.start(event.pk, generation, "host:1")
    time.sleep(0.3)
    assert lease.is_lapsed(event.pk) and lease.renew(event.pk, generation) is False


def test_the_watchdog_starts_a_mixer_for_live_shows_whose_lease_lapsed():
    class Recording:
        def __init__(self):
            self.started = []

        def start(self, event_id: int) -> None:
            self.started.append(event_id)
            lease.claim(event_id, owner="queued")

    waiting, running, rehearsing = make_event("waiting"), make_event("running"), make_event("not-yet")
    for event in (waiting, running):
        make_tone_presenter(event, "Ann", 440)
        go_live(event)
    lease.claim(running.pk, owner="queued")  # its mixer is starting
    assert events_needing_a_mixer() == [waiting.pk]  # preshow needs none, running has one
    runner = Recording()
    assert watch_once(runner) == [waiting.pk] and runner.started == [waiting.pk]
    assert watch_once(runner) == []  # the claim holds until the mixer starts or its grace lapses
    assert rehearsing.pk not in runner.started
