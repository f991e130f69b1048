"""A line's measured arrival jitter (streaming/core/jitter.py) and its RTP timeline."""

import pytest

from streaming.core.jitter import RTP_WRAP, ArrivalJitter, RtpTimeline


def test_lateness_is_the_quantile_of_each_arrival_against_the_most_punctual():
    jitter = ArrivalJitter(window=20, quantile=0.95)
    for k in range(20):  # media time k/50 s; two packets 30 and 50 ms late, one 10 ms
        late = {3: 0.03, 11: 0.05, 15: 0.01}.get(k, 0.0)
        jitter.arrived(now=100.0 + k * 0.02 + late, media_time=7.0 + k * 0.02)
    assert jitter.lateness() == pytest.approx(0.03)  # the 19th of 20 ordered
    assert jitter.on_time(7.0 + 25 * 0.02) == pytest.approx(100.0 + 25 * 0.02)


def test_a_late_burst_leaves_the_window_and_is_forgotten():
    jitter = ArrivalJitter(window=10)
    jitter.arrived(now=0.08, media_time=0.0)  # 80 ms late
    for k in range(1, 10):
        jitter.arrived(now=k * 0.02, media_time=k * 0.02)
    assert jitter.lateness() == pytest.approx(0.08)
    jitter.arrived(now=0.2, media_time=0.2)
    assert jitter.lateness() == 0.0


def test_no_arrivals_no_lateness():
    assert ArrivalJitter().lateness() == 0.0 and ArrivalJitter().on_time(1.0) is None


@pytest.mark.parametrize(("window", "quantile"), [(0, 0.95), (10, 0.0), (10, 1.5)])
def test_a_window_or_quantile_out_of_range_is_refused(window, quantile):
    with pytest.raises(ValueError):
        ArrivalJitter(window=window, quantile=quantile)


def test_rtp_timestamps_count_on_across_the_wrap_and_a_reordered_one_steps_back():
    timeline = RtpTimeline(48000)
    assert timeline.seconds(RTP_WRAP - 960) == 0.0
    assert timeline.seconds(0) == pytest.approx(0.02)
    assert timeline.seconds(960) == pytest.approx(0.04)
    assert timeline.seconds(0) == pytest.approx(0.02)


def test_an_rtp_clock_rate_must_be_positive():
    with pytest.raises(ValueError, match="positive"):
        RtpTimeline(0)
