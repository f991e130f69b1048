"""The publisher: the mix loop's segments written in order on a thread of their own, and a failure
raised again in the mix loop."""

import threading

import pytest

from streaming.core.publisher import Publisher


def test_work_runs_in_the_order_it_was_submitted_and_close_waits_for_all_of_it():
    done = []
    publisher = Publisher()
    for number in range(200):
        publisher.submit(lambda number=number: done.append(number))
    publisher.close()
    assert done == list(range(200))


def test_a_slow_piece_of_work_never_holds_up_the_submitter():
    release = threading.Event()
    publisher = Publisher()
    publisher.submit(release.wait)  # a disk or a database that does not answer
    publisher.submit(lambda: None)  # the next tick's segment is handed over all the same
    assert not release.is_set()
    release.set()
    publisher.close()


def test_a_failure_stops_later_work_and_is_raised_in_the_submitters_thread():
    done = []
    publisher = Publisher()
    publisher.submit(lambda: done.append(1))
    publisher.submit(lambda: 1 / 0)
    publisher.submit(lambda: done.append(3))  # after a hole in the playlist: not written
    with pytest.raises(ZeroDivisionError):
        publisher.close()
    assert done == [1]
    with pytest.raises(ZeroDivisionError):
        publisher.submit(lambda: done.append(4))
