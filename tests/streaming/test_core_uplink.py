"""Browser uplinks in the mixer: a growing WebM/Opus stream decoded as it arrives, a reconnect
taking over the line, garbage and silence marking the line faulted without touching other lines."""

import threading
import time

import numpy as np
import pytest

from events.harness import wait_for
from streaming.core.lines import HEALTH_FAULTED, HEALTH_OK, LineReader, LineSpec
from streaming.core.uplink import EBML_MAGIC, UplinkBuffer
from tests.audio import tone_level, webm_opus_tone

TICK = 0.02


def uplink_spec(buffer: UplinkBuffer, line_id: str = "p1") -> LineSpec:
    return LineSpec(
        line_id,
        f"uplink:{line_id}",
        format="matroska",
        options={"probesize": "4096", "analyzeduration": "0"},
        opener=buffer.open,
        live=True,
    )


def send(buffer: UplinkBuffer, session: str, slices: list[bytes], pause: float = 0.0, first: int = 0) -> None:
    for seq, chunk in enumerate(slices[first:], start=first):
        buffer.push(session, seq, chunk)
        time.sleep(pause)


def take(reader: LineReader, frames: int) -> np.ndarray:
    return np.concatenate([reader.read_frame(wait=1.0) for _ in range(frames)], axis=1)[0]


@pytest.fixture
def started(readers):
    """Realtime readers with room for a whole test's frames (stopped after it, as `readers` are)."""
    return lambda spec: readers(spec, realtime=True, buffer_frames=400)


def test_the_buffer_takes_a_session_only_from_its_webm_header_and_in_order():
    buffer = UplinkBuffer()
    assert not buffer.push("a", 0, b"not webm")
    assert buffer.push("a", 0, EBML_MAGIC + b"header")
    assert buffer.push("a", 1, b"one") and buffer.push("a", 3, b"three after a lost slice")
    assert not buffer.push("a", 2, b"late")  # never rewinds
    assert not buffer.push("old", 4, b"from a replaced session")
    assert buffer.push("b", 0, EBML_MAGIC + b"reconnected")
    assert (buffer.session, buffer.received, buffer.refused) == ("b", 4, 3)


def test_a_growing_uplink_is_decoded_as_it_arrives(started):
    buffer = UplinkBuffer()
    reader = started(uplink_spec(buffer))
    slices = webm_opus_tone(440, 3.0)
    threading.Thread(target=send, args=(buffer, "s1", slices, 0.01), daemon=True).start()
    assert reader.read_frame(wait=5.0).shape == (2, 960)
    samples = take(reader, 100)
    assert tone_level(samples, 440) > 0.2 and tone_level(samples, 880) < 0.01
    assert reader.health == HEALTH_OK


def test_a_reconnect_starts_a_new_session_on_the_same_line(started):
    buffer = UplinkBuffer()
    reader = started(uplink_spec(buffer))
    send(buffer, "first", webm_opus_tone(440, 1.0))
    first = take(reader, 40)
    threading.Thread(target=send, args=(buffer, "second", webm_opus_tone(880, 3.0), 0.01), daemon=True).start()
    wait_for(lambda: tone_level(take(reader, 20), 880) > 0.2, 5, "the second session's tone", every=0)
    assert tone_level(first, 440) > 0.2
    assert tone_level(take(reader, 40), 880) > 0.2
    assert reader.opens == 2


def test_garbage_after_the_header_faults_the_line_and_not_its_neighbour(started):
    buffer = UplinkBuffer()
    broken = started(uplink_spec(buffer, "p1"))
    neighbour = started(LineSpec("p2", "sine=frequency=660:sample_rate=48000", format="lavfi"))
    header = webm_opus_tone(440, 0.5)[0]
    buffer.push("s1", 0, header)
    for seq in range(1, 40):
        buffer.push("s1", seq, bytes(np.random.default_rng(seq).integers(0, 256, 1500, dtype=np.uint8)))
    wait_for(lambda: broken.health == HEALTH_FAULTED, 5, "the garbled line to fault", every=TICK)
    samples = take(neighbour, 50)
    assert tone_level(samples, 660) > 0.05 and neighbour.health == HEALTH_OK  # lavfi sine: 1/8 scale
    # The neighbour's frames kept coming: every one of the 50 was there within a second of asking.
    assert neighbour.underruns == 0


def test_an_uplink_that_stops_sending_faults_its_line(started):
    buffer = UplinkBuffer(gap_seconds=0.5)
    reader = started(uplink_spec(buffer))
    send(buffer, "s1", webm_opus_tone(440, 1.0))
    take(reader, 30)

    def faulted_while_the_mixer_ticks() -> bool:
        reader.read_frame()
        return reader.health == HEALTH_FAULTED

    wait_for(faulted_while_the_mixer_ticks, 3, "the silent uplink to fault", every=TICK)
