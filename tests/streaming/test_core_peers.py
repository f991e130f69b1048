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
