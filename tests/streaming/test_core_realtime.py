"""Real-time scheduling for the mix loop's thread: granted where the process may ask, restored
after, and never an error where it may not."""

import os
import threading

import pytest

from streaming.core.realtime import raise_priority, realtime

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
