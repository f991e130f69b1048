"""A peer's jitter buffer: as long a wait as the measured arrival jitter asks, never a standing delay."""

import itertools

import numpy as np
import pytest

from streaming.core.peers import FrameQueue

TICK = 0.02
SENDER_EPOCH = 5000.0  # the sender's clock is not ours: only differences count


def frame(number: int) -> np.ndarray:
    return np.full((2, 960), number, dtype=np.float32)


def play(queue: FrameQueue, lateness: list[float], phase: float = 0.007) -> list[tuple[float, int | None, float]]:
    """Frame k is sent at k ticks and arrives `lateness[k]` after, or with the frame before it if
    that came later (in order, as InOrderAudio hands them on); the mix pops every tick from
    `phase` on, until the last frame has played. Returns each pop: (its time, the frame it played
    or None, how long that frame had waited since it was sent)."""
    sent_late = (k * TICK + late for k, late in enumerate(lateness))
    arrivals = list(zip(itertools.accumulate(sent_late, max), itertools.count()))
    pops, pushed, tick = [], 0, 0
    while pushed < len(arrivals) or len(queue):
        now = phase + tick * TICK
        tick += 1
        while pushed < len(arrivals) and arrivals[pushed][0] <= now:
            at, k = arrivals[pushed]
            queue.push(frame(k), media_time=SENDER_EPOCH + k * TICK, now=at)
            pushed += 1
        popped = queue.pop(now=now)
        number = None if popped is None else int(popped[0, 0])
        pops.append((now, number, None if number is None else now - number * TICK))
    return pops


def played(pops) -> list[int]:
    return [number for _, number, _ in pops if number is not None]


def calm(seconds: float) -> list[float]:
    """A quiet network: every packet within half a millisecond of its time."""
    return [0.0005 * (k % 3 == 1) for k in range(int(seconds / TICK))]


def test_calm_arrivals_play_at_the_next_tick_one_frame_at_most_waiting():
    queue = FrameQueue()
    pops = play(queue, calm(5))
    assert played(pops) == list(range(250))
    assert max(wait for _, number, wait in pops if number is not None) < TICK
    assert queue.jitter.lateness() == pytest.approx(0.0005)
    assert (queue.underruns, queue.trimmed, queue.dropped) == (0, 0, 0)
    assert queue.held == pytest.approx(0.007, abs=0.001)  # the tick's phase: the wait for the mix


def test_jitter_sets_the_wait_and_stops_the_gaps():
    # Every fifth packet 45 ms late: a fifth of the arrivals, far above the 95th percentile's cut.
    queue = FrameQueue()
    pops = play(queue, [0.045 * (k % 5 == 4) for k in range(250)])
    assert queue.jitter.lateness() == pytest.approx(0.045)
    assert queue.underruns == 1  # the first late packet, before the window knew of any
    assert played(pops) == sorted(played(pops))
    assert len(played(pops)) + queue.trimmed == 250
    after_first_second = [wait for now, number, wait in pops if number is not None and now > 1.0]
    assert min(after_first_second) >= 0.045 and max(after_first_second) < 0.045 + 2 * TICK
    assert 0.045 <= queue.held < 0.045 + TICK


def test_once_the_jitter_calms_down_the_wait_falls_back_to_one_frame_within_three_seconds():
    jittery = [0.045 * (k % 5 == 4) for k in range(150)]  # three seconds of it, then calm
    queue = FrameQueue()
    pops = play(queue, jittery + calm(8)[150:])
    calm_since = 150 * TICK
    waits = [(now - calm_since, wait) for now, number, wait in pops if number is not None]
    assert max(wait for since, wait in waits if since > 3.0) < TICK
    assert max(wait for since, wait in waits if 0 < since < 1.0) > 0.045  # it did hold them
    assert queue.trimmed >= 2 and queue.underruns == 1
    assert played(pops) == sorted(played(pops))  # trimming drops the oldest, never reorders
    assert len(played(pops)) + queue.trimmed == 400  # nothing else went missing


def test_a_burst_beyond_capacity_is_counted_then_trimmed_back():
    # A stall of 200 ms: eleven packets at once (the ten held up and the one due then), then calm.
    lateness = [0.0] * 50 + [0.2] + [0.0] * 349
    queue = FrameQueue(capacity=6)
    pops = play(queue, lateness)
    assert queue.dropped == 5  # the five oldest of the burst found no room
    assert len(played(pops)) + queue.trimmed + queue.dropped == 400
    queue.count_overtaken()  # and a packet the receiver found overtaken
    assert queue.cut == queue.dropped + queue.trimmed + 1 == 400 + 1 - len(played(pops))
    assert played(pops) == sorted(played(pops))
    # The stall leaves the window two seconds on; within a trim window more, one frame waits.
    assert max(wait for now, number, wait in pops if number is not None and now > 4.2) < TICK


def test_lateness_beyond_the_longest_wait_is_a_gap_not_a_delay():
    # Twice a second a packet 150 ms late (the next ones behind it): too long for a conversation.
    queue = FrameQueue(longest=0.08)
    pops = play(queue, [0.15 * (k % 25 == 24) for k in range(250)])
    assert queue.jitter.lateness() > 0.1 and queue.target() == 0.08
    assert queue.underruns >= 9  # each stall leaves a gap
    assert max(wait for now, number, wait in pops if number is not None and now > 1.0) < 0.15 + TICK
    assert played(pops) == sorted(played(pops))
    assert len(played(pops)) + queue.trimmed + queue.dropped == 250


def test_frames_without_a_media_time_count_as_on_time():
    queue = FrameQueue()
    queue.push(frame(1), now=10.0)
    assert queue.pop(now=10.005)[0, 0] == 1
    assert queue.pop(now=10.025) is None and queue.underruns == 1
    queue.push(frame(2), now=10.03)
    assert queue.pop(now=10.045)[0, 0] == 2


def test_a_buffer_too_small_to_hold_a_frame_besides_the_one_playing_is_refused():
    with pytest.raises(ValueError, match="room for two frames"):
        FrameQueue(capacity=1)
    with pytest.raises(ValueError, match="trim window"):
        FrameQueue(trim_every=0)
    with pytest.raises(ValueError, match="a wait"):
        FrameQueue(longest=-0.02)
