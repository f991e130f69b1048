"""Seats under concurrency, on PostgreSQL: many threads register and cancel at once, and exactly
`capacity` registrations end up confirmed."""

import threading

import pytest
from django.db import connection, connections

from events import registration as service
from events.models import Registration
from events.registration import register
from tests.events.helpers import make_event, new_registrations

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are what is under test: PostgreSQL"),
]

Status = Registration.Status


def run_together(jobs) -> list:
    """Run the callables in threads released at the same moment; return their results or errors."""
    barrier = threading.Barrier(len(jobs))
    results: list = [None] * len(jobs)

    def run(index, job):
        try:
            barrier.wait()
            results[index] = job()
        except Exception as error:
            results[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not [r for r in results if isinstance(r, Exception)], results
    return results


def test_concurrent_registrations_confirm_exactly_the_capacity():
    event = make_event(capacity=10)
    jobs = [lambda i=i: register(event, name=f"P{i}", email=f"p{i}@example.com") for i in range(40)]
    run_together(jobs)
    assert event.registrations.filter(status=Status.CONFIRMED).count() == 10
    assert event.registrations.filter(status=Status.WAITLISTED).count() == 30


def test_the_same_email_from_many_threads_makes_one_registration():
    event = make_event(capacity=5)
    results = run_together([lambda: register(event, name="Rita", email="rita@example.com") for _ in range(16)])
    assert {r.pk for r in results} == {event.registrations.get().pk}


def test_cancellations_racing_registrations_hand_seats_to_the_waitlist_in_order():
    event = make_event(capacity=10)
    everyone = new_registrations(event, 20)
    confirmed, waiting = everyone[:10], everyone[10:]
    jobs = [lambda r=r: service.cancel(r) for r in confirmed[:5]]
    jobs += [lambda i=i: register(event, name=f"N{i}", email=f"new{i}@example.com") for i in range(20)]
    run_together(jobs)

    now_confirmed = set(event.registrations.filter(status=Status.CONFIRMED).values_list("email", flat=True))
    assert len(now_confirmed) == 10
    assert now_confirmed == {r.email for r in confirmed[5:] + waiting[:5]}
    assert event.registrations.filter(status=Status.WAITLISTED).count() == 5 + 20
