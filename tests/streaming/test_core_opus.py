"""libopus's encoder through ctypes (streaming/core/opus.py): what it encodes decodes, as a
browser's decoder would, to what went in; what it cannot encode is refused with libopus's reason."""

import av
import numpy as np
import pytest

from streaming.core import FRAME_SAMPLES, SAMPLE_RATE
from streaming.core.opus import OpusEncoder, OpusError
from tests.audio import tone_level


def tone(frequency: float, level: float, ticks: int, channels: int) -> np.ndarray:
    t = np.arange(ticks * FRAME_SAMPLES) / SAMPLE_RATE
    wave = (level * np.sin(2 * np.pi * frequency * t)).astype(np.float32)
    return np.repeat(wave[:, None], channels, axis=1)


def decoded(packets: list[bytes]) -> np.ndarray:
    """The packets through libopus's decoder as a browser's (16-bit stereo), the first channel."""
    decoder = av.CodecContext.create("libopus", "r")
    decoder.format, decoder.layout, decoder.sample_rate = "s16", "stereo", SAMPLE_RATE
    frames = [frame.to_ndarray().reshape(-1, 2) for packet in packets for frame in decoder.decode(av.Packet(packet))]
    return np.concatenate(frames)[:, 0] / 32768


@pytest.mark.parametrize("channels", [1, 2])
def test_a_tone_encoded_decodes_to_the_tone(channels):
    encoder = OpusEncoder(channels, SAMPLE_RATE, 48000, 5)
    samples = tone(440, 0.25, 50, channels)
    packets = [encoder.encode(samples[tick * FRAME_SAMPLES : (tick + 1) * FRAME_SAMPLES]) for tick in range(50)]
    # 48 kb/s: about 120 bytes a 20 ms packet (the encoder may spend less on a steady tone).
    assert all(0 < len(packet) <= 200 for packet in packets)
    heard = decoded(packets)[10 * FRAME_SAMPLES :]
    assert tone_level(heard, 440) == pytest.approx(0.25, abs=0.02)
    assert tone_level(heard, 880) < 0.005


def test_a_frame_of_the_wrong_shape_or_type_is_refused_and_the_encoder_goes_on():
    encoder = OpusEncoder(1, SAMPLE_RATE, 48000, 5)
    with pytest.raises(ValueError, match=r"float32 \(samples, 1\)"):
        encoder.encode(np.zeros((FRAME_SAMPLES, 2), dtype=np.float32))
    with pytest.raises(ValueError, match="float32"):
        encoder.encode(np.zeros((FRAME_SAMPLES, 1), dtype=np.float64))
    samples = tone(440, 0.25, 20, 1)
    packets = [encoder.encode(samples[tick * FRAME_SAMPLES : (tick + 1) * FRAME_SAMPLES]) for tick in range(20)]
    assert tone_level(decoded(packets)[10 * FRAME_SAMPLES :], 440) == pytest.approx(0.25, abs=0.02)


def test_what_libopus_refuses_is_an_error_with_its_reason():
    with pytest.raises(OpusError, match="opus_encoder_create: invalid argument"):
        OpusEncoder(1, 44100, 48000, 5)  # Opus runs at 8, 12, 16, 24 or 48 kHz
    with pytest.raises(OpusError, match="invalid argument"):
        OpusEncoder(1, SAMPLE_RATE, 48000, 11)  # complexity is 0 to 10
    encoder = OpusEncoder(1, SAMPLE_RATE, 48000, 5)
    with pytest.raises(OpusError, match="opus_encode_float: invalid argument"):
        encoder.encode(np.zeros((100, 1), dtype=np.float32))  # not 2.5, 5, 10, 20, 40 or 60 ms
