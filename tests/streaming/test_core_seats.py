"""Low-latency seats (streaming/core/seats.py): taken while free, kept by each later grant, freed a
pass lifetime after the last one; a viewer granted none stays without while they renew."""

import threading

import pytest

from streaming.core.seats import Seats


def test_viewers_are_seated_until_the_seats_are_taken():
    seats = Seats(2, lifetime=60)
    assert [seats.take(viewer, 100.0) for viewer in (1, 2, 3)] == [True, True, False]
    assert seats.seated(100.0) == 2


def test_a_seated_viewer_keeps_the_seat_on_every_renewal_and_an_unseated_one_stays_without():
    seats = Seats(1, lifetime=60)
    assert seats.take(1, 0.0) is True
    assert seats.take(2, 1.0) is False
    for now in (20.0, 40.0, 60.0, 80.0, 100.0):  # both renew every third of the lifetime
        assert seats.take(1, now) is True
        assert seats.take(2, now + 1) is False
    assert seats.seated(100.0) == 1


def test_a_seat_frees_itself_a_lifetime_after_its_last_grant():
    seats = Seats(1, lifetime=60)
    assert seats.take(1, 0.0) is True
    assert seats.take(1, 30.0) is True
    assert seats.take(2, 89.9) is False  # viewer 1's seat is held until 90
    assert seats.seated(89.9) == 1
    assert seats.seated(90.0) == 0
    # Viewer 2, unseated at 89.9, is remembered as such until 149.9; a newcomer takes the seat.
    assert seats.take(3, 90.0) is True
    assert seats.take(2, 100.0) is False
    # Viewer 1, back after their seat was given away, is a newcomer with none free.
    assert seats.take(1, 101.0) is False


def test_an_unseated_viewer_who_stopped_renewing_is_a_newcomer_a_lifetime_later():
    seats = Seats(1, lifetime=60)
    seats.take(1, 0.0)
    assert seats.take(2, 0.0) is False
    assert seats.take(1, 59.0) is True  # viewer 1 holds the seat until 119
    assert seats.take(2, 120.0) is True  # viewer 2's refusal forgotten at 60, the seat free at 119


def test_zero_seats_is_unlimited_and_remembers_nobody():
    seats = Seats(0, lifetime=60)
    assert all(seats.take(viewer, 0.0) for viewer in range(10_000))
    assert seats.seated(0.0) == 0 and not seats._viewers


@pytest.mark.parametrize(("count", "lifetime"), [(-1, 60), (5, 0)])
def test_nonsense_is_refused(count, lifetime):
    with pytest.raises(ValueError, match="seats must be 0"):
        Seats(count, lifetime)


def test_grants_from_two_threads_never_seat_more_than_the_seats():
    seats = Seats(50, lifetime=60)
    taken = []

    def grant(first: int) -> None:
        taken.extend(viewer for viewer in range(first, first + 500) if seats.take(viewer, 0.0))

    threads = [threading.Thread(target=grant, args=(n * 500,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(taken) == 50 == seats.seated(0.0)
