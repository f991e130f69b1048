"""The mixer lease: generations fence off duplicates and zombies; the watchdog finds lapsed leases."""

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from events.harness import wait_for
from stage import store
from streaming import lease, worker
from streaming.holder import LeaseHolder
from streaming.models import MixerLease
from streaming.runners import events_needing_a_mixer, shows_owed_a_finish, watch_once
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
    assert lease.claim(event.pk, owner="queued") is None  # held: a second launcher starts nothing
    # Generation 1 never started; its lease lapsed a second ago (on SQLite the database's clock
    # counts whole milliseconds: a lease ending "now" is not over within the same millisecond).
    MixerLease.objects.filter(event=event).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert lease.claim(event.pk, owner="queued") == 2  # the watchdog's: generation 1 is fenced off
    assert lease.start(event.pk, 1, "host:1") is False
    assert worker.run_mixer(event.pk, 1, lambda report: None) == "superseded"  # a late duplicate delivery
    assert lease.holds(event.pk, 1) is False and lease.renew(event.pk, 1) is False
    before = timezone.now()
    assert lease.start(event.pk, 2, "host:2") is True
    after = timezone.now()
    row = MixerLease.objects.get(event=event)
    assert (row.generation, row.owner) == (2, "host:2")
    # Ten seconds from the start, on the database's clock (this machine's; a busy machine may take
    # a while between the lines, so the bounds are the instants around the call, not "now").
    slack = timedelta(milliseconds=50)
    assert before + timedelta(seconds=10) - slack <= row.expires_at <= after + timedelta(seconds=10) + slack
    assert lease.holds(event.pk, 2) and lease.renew(event.pk, 2)
    lease.release(event.pk, 2)
    assert lease.holds(event.pk, 2) is False and lease.is_lapsed(event.pk)


@pytest.mark.django_db(transaction=True)  # each launcher has a connection of its own
@pytest.mark.skipif(connection.vendor != "postgresql", reason="two servers race on PostgreSQL's row locks")
def test_two_launchers_that_both_saw_the_lease_lapse_claim_it_once():
    event = make_event("raced")
    assert lease.claim(event.pk, owner="first") == 1
    lease.release(event.pk, 1)  # lapsed: both launchers (two servers' watchdogs) see it so
    claimed = []

    def launch(name: str) -> None:
        try:
            claimed.append(lease.claim(event.pk, owner=name))
        finally:
            connection.close()

    with transaction.atomic():
        # Hold the row so both claims are in flight at once, then let them race.
        MixerLease.objects.select_for_update().get(event=event)
        launchers = [threading.Thread(target=launch, args=(name,)) for name in ("a", "b")]
        for launcher in launchers:
            launcher.start()
        wait_for(lambda: waiting_on_locks() == 2, 10, "both claims waiting on the lease row")
    for launcher in launchers:
        launcher.join(timeout=10)
    assert sorted(claimed, key=str) == [2, None]  # one mixer starts, the other launcher starts none
    row = MixerLease.objects.get(event=event)
    assert row.generation == 2 and row.owner in ("a", "b") and not lease.is_lapsed(event.pk)


def waiting_on_locks() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")  # else a transaction sees its first snapshot
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


def test_a_lease_lapses_when_not_renewed(settings):
    settings.MIXER_LEASE_SECONDS = 0.2
    event = make_event("lapsing")
    generation = lease.claim(event.pk, owner="queued", seconds=0.2)
    assert lease.start(event.pk, generation, "host:1")
    time.sleep(0.3)
    assert lease.is_lapsed(event.pk) and lease.renew(event.pk, generation) is False


class Recording:
    """A runner that only claims, as a real one does before it starts the mixer."""

    def __init__(self):
        self.started = []

    def start(self, event_id: int) -> None:
        self.started.append(event_id)
        lease.claim(event_id, owner="queued")


def test_the_watchdog_starts_a_mixer_for_live_shows_whose_lease_lapsed(settings):
    settings.MIXER_AUTOSTART = True
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


def test_the_watchdog_has_an_ended_show_finished_when_its_mixer_died_before_finishing_it(settings):
    settings.MIXER_AUTOSTART = True
    died, finished, finishing, unmixed = (make_event(slug) for slug in ("died", "finished", "finishing", "unmixed"))
    for event in (died, finished, finishing, unmixed):
        go_live(event)
    for event in (died, finished, finishing):
        assert lease.start(event.pk, lease.claim(event.pk, owner="queued"), "host:1")
    lease.release(died.pk, 1)  # its lease lapsed: the mixer is gone
    lease.mark_finished(finished.pk, 1)
    lease.release(finished.pk, 1)
    for event in (died, finished, finishing, unmixed):
        outcome = store.submit(event.pk, {"type": "end_show", "version": 1, "client_id": "end"}, actor="t")
        assert outcome.applied, outcome.error
    assert shows_owed_a_finish() == [died.pk]  # `finishing` still holds its lease
    runner = Recording()
    assert watch_once(runner) == [died.pk] and runner.started == [died.pk]
    assert watch_once(runner) == []  # generation 2 has claimed it
    assert MixerLease.objects.get(event=died).finished_at is None


@pytest.mark.parametrize("runner_name", ["local", "celery"])
def test_with_automatic_mixers_off_the_watchdog_starts_nothing(settings, monkeypatch, runner_name):
    """MIXER_AUTOSTART off: neither the server's watchdog thread nor beat's task starts a mixer."""
    from streaming import runners, tasks

    settings.MIXER_AUTOSTART = False
    settings.MIXER_RUNNER = runner_name
    live, ended = make_event("live-no-auto"), make_event("ended-no-auto")
    for event in (live, ended):
        make_tone_presenter(event, "Ann", 440)
        go_live(event)
    assert lease.start(ended.pk, lease.claim(ended.pk, owner="queued"), "host:1")
    lease.release(ended.pk, 1)
    outcome = store.submit(ended.pk, {"type": "end_show", "version": 1, "client_id": "end"}, actor="t")
    assert outcome.applied
    assert events_needing_a_mixer() == [live.pk] and shows_owed_a_finish() == [ended.pk]
    monkeypatch.setattr(runners, "_runner", None)
    started = []
    monkeypatch.setattr(runners.LocalRunner, "start", lambda self, event_id: started.append(event_id))
    monkeypatch.setattr(runners.CeleryRunner, "start", lambda self, event_id: started.append(event_id))
    assert tasks.watch_mixers() == [] and runners.watch_once(runners.get_runner()) == []
    assert started == []
    assert not MixerLease.objects.filter(event=live).exists()  # nothing was even claimed


@pytest.mark.django_db(transaction=True)  # the renewing thread has a connection of its own
def test_the_lease_is_kept_while_the_show_is_being_finished(settings):
    settings.MIXER_LEASE_SECONDS, settings.MIXER_RENEW_SECONDS = 0.6, 0.1
    event = make_event("finishing")
    generation = lease.claim(event.pk, owner="queued")
    assert lease.start(event.pk, generation, "host:1")
    with LeaseHolder(event.pk, generation).renewing():
        time.sleep(1.5)  # longer than the lease lasts without renewal
        assert lease.holds(event.pk, generation)
    time.sleep(0.8)
    assert lease.is_lapsed(event.pk)
