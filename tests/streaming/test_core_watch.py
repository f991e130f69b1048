"""Line watch: health changes, silence alarms and the fallback's timing, tick by tick."""

from streaming.core.watch import LineWatch


def test_health_changes_are_reported_once_each():
    watch = LineWatch(fallback_after_ticks=50)
    assert watch.update({"a": "connecting", "b": "connecting"}, set()) == [
        {"type": "line_health", "line": "a", "health": "connecting"},
        {"type": "line_health", "line": "b", "health": "connecting"},
    ]
    assert watch.update({"a": "connecting", "b": "connecting"}, set()) == []
    assert watch.update({"a": "ok", "b": "faulted"}, set()) == [
        {"type": "line_health", "line": "a", "health": "ok"},
        {"type": "line_health", "line": "b", "health": "faulted"},
    ]
    assert watch.update({"a": "ok", "b": "faulted"}, set()) == []


def test_silence_alarm_only_for_lines_on_air_and_cleared_when_sound_returns():
    watch = LineWatch(fallback_after_ticks=50)
    watch.update({"a": "silent", "b": "silent"}, set())
    assert watch.update({"a": "silent", "b": "silent"}, {"a"}) == [
        {"type": "alarm", "alarm": "silence", "line": "a", "active": True}
    ]
    assert watch.update({"a": "silent", "b": "silent"}, {"a"}) == []
    assert watch.update({"a": "ok", "b": "silent"}, {"a"}) == [
        {"type": "line_health", "line": "a", "health": "ok"},
        {"type": "alarm", "alarm": "silence", "line": "a", "active": False},
    ]
    watch.update({"a": "ok", "b": "silent"}, {"a", "b"})
    assert watch.update({"a": "ok", "b": "silent"}, {"a"}) == [
        {"type": "alarm", "alarm": "silence", "line": "b", "active": False}
    ]


def test_fallback_after_more_than_the_moment_of_dead_air_and_off_when_a_line_carries():
    watch = LineWatch(fallback_after_ticks=50)
    watch.update({"a": "faulted", "b": "ok"}, set())
    # Nothing on air is the producer's choice, not dead air.
    assert all(watch.update({"a": "faulted", "b": "ok"}, set()) == [] for _ in range(100))
    dead = [watch.update({"a": "faulted", "b": "ok"}, {"a"}) for _ in range(51)]
    assert dead[:50] == [[]] * 50
    assert dead[50] == [{"type": "fallback", "active": True}]
    assert watch.update({"a": "faulted", "b": "ok"}, {"a"}) == []
    # A silent line still carries the program (its own alarm tells the console).
    assert watch.update({"a": "faulted", "b": "silent"}, {"a", "b"}) == [
        {"type": "line_health", "line": "b", "health": "silent"},
        {"type": "alarm", "alarm": "silence", "line": "b", "active": True},
        {"type": "fallback", "active": False},
    ]


def test_a_moment_of_dead_air_does_not_start_the_fallback():
    watch = LineWatch(fallback_after_ticks=50)
    for _ in range(3):
        assert all(
            watch.update({"a": "connecting"}, {"a"})
            in ([], [{"type": "line_health", "line": "a", "health": "connecting"}])
            for _ in range(50)
        )
        watch.update({"a": "ok"}, {"a"})
    assert watch.fallback_active is False
