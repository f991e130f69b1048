"""Real-time scheduling for the mix loop's thread: granted where the process may ask, restored
after, and never an error where it may not."""

import os
import threading

import pytest

from streaming.core.realtime import raise_priority, realtime, realtime_process

linux = pytest.mark.skipif(not hasattr(os, "sched_getscheduler"), reason="Linux scheduling")


def policy_of_a_thread(body=lambda: None) -> list:
    """Run `body` in a new thread; the policy that thread had before and after it."""
    seen = []

    def run() -> None:
        seen.append(os.sched_getscheduler(0))
        body()
        seen.append(os.sched_getscheduler(0))

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    return seen


@linux
def test_priority_zero_changes_nothing():
    assert policy_of_a_thread(lambda: raise_priority(0)) == [os.SCHED_OTHER, os.SCHED_OTHER]


@linux
def test_the_thread_is_real_time_inside_and_ordinary_after_and_its_children_inherit_it():
    seen = {}

    def body() -> None:
        with realtime(10) as granted:
            seen["granted"] = granted
            seen["inside"] = os.sched_getscheduler(0)
            child = threading.Thread(target=lambda: seen.setdefault("child", os.sched_getscheduler(0)))
            child.start()
            child.join()
        seen["after"] = os.sched_getscheduler(0)

    policy_of_a_thread(body)
    assert seen["after"] == os.SCHED_OTHER
    if not seen["granted"]:
        pytest.skip("this process may not ask for real-time scheduling (no CAP_SYS_NICE)")
    assert seen["inside"] == seen["child"] == os.SCHED_RR
    # Only the calling thread: the test's own thread is still ordinary.
    assert os.sched_getscheduler(0) == os.SCHED_OTHER


@linux
def test_a_priority_out_of_range_is_refused_quietly():
    assert policy_of_a_thread(lambda: raise_priority(1000)) == [os.SCHED_OTHER, os.SCHED_OTHER]


@linux
def test_a_real_time_process_has_every_thread_real_time_inside_and_ordinary_after():
    started, stop = threading.Event(), threading.Event()
    seen = {}

    def already_running() -> None:  # started before: raised from outside, as the mixer's follower
        started.set()
        stop.wait()
        seen["before_started"] = os.sched_getscheduler(0)

    thread = threading.Thread(target=already_running)
    thread.start()
    started.wait()
    policy_of_a_thread()  # nothing leaks from an earlier test
    with realtime_process(10) as granted:
        inside = policy_of_a_thread()
        stop.set()
        thread.join()
    if not granted:
        pytest.skip("this process may not ask for real-time scheduling (no CAP_SYS_NICE)")
    assert seen["before_started"] == os.SCHED_RR
    assert inside == [os.SCHED_RR, os.SCHED_RR]
    assert os.sched_getscheduler(0) == os.SCHED_OTHER
    assert policy_of_a_thread() == [os.SCHED_OTHER, os.SCHED_OTHER]
