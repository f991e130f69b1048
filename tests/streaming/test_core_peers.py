"""A peer's jitter buffer: a cushion against jitter, never a standing delay."""

import numpy as np

from streaming.core.peers import FrameQueue


def frame(number: int) -> np.ndarray:
    return np.full((2, 960), number, dtype=np.float32)


def test_it_plays_once_prefilled_and_counts_underruns():
    queue = FrameQueue(prefill=2)
    queue.push(frame(1))
    assert queue.pop() is None  # prefilling
    queue.push(frame(2))
    assert queue.pop()[0, 0] == 1 and queue.pop()[0, 0] == 2
    assert queue.pop() is None and queue.underruns == 1


def test_a_burst_that_filled_it_is_trimmed_back_to_the_cushion():
    queue = FrameQueue(prefill=2, capacity=6, trim_every=10)
    for number in range(6):  # a burst: six frames at once
        queue.push(frame(number))
    played = []
    for number in range(6, 40):  # then one in, one out: without trimming, six frames late forever
        queue.push(frame(number))
        played.append(int(queue.pop()[0, 0]))
    assert queue.trimmed == 4
    assert number - played[-1] == 1  # the newest frame waits behind one other: the cushion
    assert played == sorted(played)  # trimming drops the oldest, never reorders


def test_a_cushion_that_was_needed_is_kept():
    queue = FrameQueue(prefill=2, capacity=6, trim_every=10)
    queue.push(frame(0))
    queue.push(frame(1))
    for number in range(2, 40):
        if number % 10 == 5:  # now and then a frame comes late: the cushion is drawn on
            queue.pop()
            queue.push(frame(number))
            continue
        queue.push(frame(number))
        queue.pop()
    assert queue.trimmed == 0


def test_an_underrun_widens_the_cushion_up_to_its_most():
    queue = FrameQueue(prefill=1, most=3)
    queue.push(frame(1))
    assert queue.pop()[0, 0] == 1  # one frame is cushion enough on a quiet network
    assert queue.pop() is None and (queue.underruns, queue.cushion) == (1, 2)
    queue.push(frame(2))
    assert queue.pop() is None  # building the wider cushion up again
    queue.push(frame(3))
    assert queue.pop()[0, 0] == 2
    for _ in range(3):  # underrun after underrun: never wider than `most`
        while queue.pop() is not None:
            pass
        for number in range(queue.cushion):
            queue.push(frame(number))
    assert queue.cushion == 3 and queue.underruns == 4


def test_a_cushion_long_unused_shrinks_back_but_never_below_prefill():
    queue = FrameQueue(prefill=1, most=4, relax_every=20)
    queue.pop()
    for _ in range(3):  # three underruns: a cushion of four
        for number in range(queue.cushion):
            queue.push(frame(number))
        while queue.pop() is not None:
            pass
    assert queue.cushion == 4
    for number in range(4):
        queue.push(frame(number))
    for number in range(100):  # calm: one in, one out
        queue.push(frame(number))
        assert queue.pop() is not None
    assert queue.cushion == 1 and queue.underruns == 3
