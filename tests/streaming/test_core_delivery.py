"""Blocking playlist reload's rules (RFC 8216bis 6.2.5.2) on our writer's playlists: what a
request's delivery directives ask for, when a playlist holds it, and what is refused at once."""

import pytest

from streaming.core.delivery import BadDirective, Directive, check, edge, holds, read_directive
from streaming.core.playlist import PlaylistWriter
from tests.streaming.test_core_playlist_parts import PART, publish, publish_parts


def query(**values) -> dict[str, list[str]]:
    return {name: value if isinstance(value, list) else [value] for name, value in values.items()}


def test_directives_are_read_from_the_query():
    assert read_directive({}) is None
    assert read_directive(query(bust="1")) is None
    assert read_directive(query(_HLS_msn="12")) == Directive(12)
    assert read_directive(query(_HLS_msn="12", _HLS_part="0", _HLS_skip="YES")) == Directive(12, 0)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"_HLS_part": "1"}, "_HLS_part needs _HLS_msn"),
        ({"_HLS_msn": "-1"}, "one decimal integer"),
        ({"_HLS_msn": "1.5"}, "one decimal integer"),
        ({"_HLS_msn": ""}, "one decimal integer"),
        ({"_HLS_msn": "seven"}, "one decimal integer"),
        ({"_HLS_msn": "١٢"}, "one decimal integer"),  # digits, but not ASCII
        ({"_HLS_msn": "9" * 11}, "one decimal integer"),
        ({"_HLS_msn": "3", "_HLS_part": "+1"}, "_HLS_part must be one decimal integer"),
        ({"_HLS_msn": ["3", "4"]}, "_HLS_msn must be one"),
    ],
)
def test_malformed_directives_are_refused(values, message):
    with pytest.raises(BadDirective, match=message):
        read_directive(query(**values))


@pytest.fixture
def playlist(tmp_path):
    """Segments 0 to 2 whole, and parts 0 and 1 of segment 3."""
    writer = PlaylistWriter(tmp_path, part_target=PART, window=6)
    writer.begin_run()
    publish(writer, range(3))
    publish_parts(writer, 3, range(2))
    return writer


def test_the_edge_is_the_newest_whole_segment_and_the_newest_part(playlist):
    at = edge(playlist.render_live())
    assert (at.last_msn, at.last_part, at.target_duration, at.part_target, at.ended) == (2, (3, 1), 2, 0.29867, False)
    assert at.hold_seconds == 6
    playlist.end()
    assert edge(playlist.render_live()).ended


def test_a_playlist_holds_a_part_once_that_part_or_a_later_one_is_listed(playlist):
    at = edge(playlist.render_live())
    assert holds(at, Directive(3, 1)) and holds(at, Directive(3, 0)) and holds(at, Directive(2))
    assert not holds(at, Directive(3, 2)) and not holds(at, Directive(3)) and not holds(at, Directive(4, 0))
    assert holds(at, Directive(2, 9))  # past segment 2's seven parts: segment 3's first is later
    publish_parts(playlist, 3, range(2, 7))
    playlist.add_segment(b"3", 94 * 1024 / 48000, playlist._last_end)
    at = edge(playlist.render_live())
    assert (at.last_msn, at.last_part) == (3, (3, 6))
    assert holds(at, Directive(3)) and holds(at, Directive(3, 6)) and not holds(at, Directive(3, 7))
    playlist.end()
    assert holds(edge(playlist.render_live()), Directive(4, 0))  # ended: nothing more will come


def test_a_request_too_far_ahead_is_refused_at_once(playlist):
    at = edge(playlist.render_live())  # newest whole segment 2, newest part 3.1
    check(Directive(4), at)  # two segments after the newest whole one: waits
    with pytest.raises(BadDirective, match="more than two segments"):
        check(Directive(5), at)
    # The Advance Part Limit is 3 s of parts: 3 / 0.29867 = 10.04 parts after the newest.
    check(Directive(3, 11), at)
    with pytest.raises(BadDirective, match="too far after the newest part"):
        check(Directive(3, 12), at)
    check(Directive(4, 9), at)
    with pytest.raises(BadDirective, match="too far"):
        check(Directive(4, 10), at)
    check(Directive(1, 500), at)  # behind: answered at once, whatever the part
