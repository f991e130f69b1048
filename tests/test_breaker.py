"""The circuit breaker's pure core (config/breaker.py)."""

import threading

from config.breaker import Breaker


def test_closed_it_lets_every_caller_through():
    breaker = Breaker()
    assert all(breaker.allow() for _ in range(5))
    assert not breaker.is_open


def test_after_a_failure_one_caller_probes_and_the_others_are_turned_away():
    breaker = Breaker()
    assert breaker.allow()
    breaker.failed()
    assert breaker.is_open
    assert breaker.allow()  # the probe
    assert [breaker.allow() for _ in range(3)] == [False] * 3


def test_a_failed_probe_keeps_it_open_and_the_next_caller_probes_at_once():
    breaker = Breaker()
    breaker.failed()
    assert breaker.allow()
    breaker.failed()
    assert breaker.is_open
    assert breaker.allow()  # no pause between probes: recovery is not delayed
    assert not breaker.allow()


def test_a_successful_probe_closes_it():
    breaker = Breaker()
    breaker.failed()
    assert breaker.allow()
    breaker.succeeded()
    assert not breaker.is_open
    assert all(breaker.allow() for _ in range(3))


def test_of_many_threads_asking_at_once_while_open_exactly_one_probes():
    breaker = Breaker()
    breaker.failed()
    start = threading.Barrier(8)
    answers = []

    def ask():
        start.wait()
        answers.append(breaker.allow())

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers) == [False] * 7 + [True]
