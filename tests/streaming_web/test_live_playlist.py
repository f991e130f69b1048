"""Blocking playlist reload and the hinted part at the origin (streaming/live_playlist.py, the ASGI
handler in front of Django): a request for a part not there yet waits and is answered as soon as
the part is published; one far in the future, or malformed, is refused at once; waiting takes no
thread. Driven as daphne drives it, through the ASGI interface, on the test's event loop."""

import asyncio
import threading
import time

import pytest
from django.conf import settings

from streaming.core import delivery, media_pass
from streaming.core.playlist import PlaylistWriter
from streaming.core.playlist_watch import PlaylistWatch, watch
from streaming.live_playlist import LowLatencyHls
from tests.streaming.test_core_playlist_parts import PART, publish, publish_parts

EVENT = 7


@pytest.fixture
def playlist(hls_root):
    """Segments 0 and 1 whole, part 0 of segment 2 published."""
    writer = PlaylistWriter(hls_root / str(EVENT), part_target=PART)
    writer.begin_run()
    publish(writer, range(2))
    publish_parts(writer, 2, range(1))
    return writer


def a_pass(event_id: int = EVENT) -> str:
    return media_pass.issue(f"/hls/{event_id}/", time.time(), 60, settings.HLS_PASS_SECRET)


class Passed:
    """The app behind: Django, which gets every other request."""

    def __init__(self):
        self.paths = []

    async def __call__(self, scope, receive, send):
        self.paths.append(scope["path"])
        await send({"type": "http.response.start", "status": 299, "headers": []})
        await send({"type": "http.response.body", "body": b""})


async def get(app, path: str, query: str = "", cookie: str | None = None) -> tuple[int, dict, bytes]:
    headers = [(b"cookie", f"hlspass={cookie if cookie is not None else a_pass()}".encode())]
    scope = {"type": "http", "method": "GET", "path": path, "query_string": query.encode(), "headers": headers}
    sent = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    await app(scope, receive, send)
    return sent[0]["status"], {k.decode(): v.decode() for k, v in sent[0]["headers"]}, sent[1]["body"]


async def waiting(path, count: int = 1) -> None:
    """Until `count` requests wait on this playlist (a condition, not a sleep: the loop turns)."""
    deadline = time.monotonic() + 10
    while len(watch(path)._waiters) < count:
        assert time.monotonic() < deadline, "no request waits"
        await asyncio.sleep(0.001)


LIVE = f"/hls/{EVENT}/live.m3u8"


async def test_a_blocking_reload_for_a_part_not_there_yet_is_answered_as_soon_as_it_is_published(playlist):
    app = LowLatencyHls(Passed())
    request = asyncio.create_task(get(app, LIVE, "_HLS_msn=2&_HLS_part=2"))
    await waiting(playlist.directory / "live.m3u8")
    publish_parts(playlist, 2, range(1, 2))
    assert not request.done()  # part 1 is not part 2: still waiting
    publish_parts(playlist, 2, range(2, 3))
    status, headers, body = await asyncio.wait_for(request, 5)
    assert status == 200
    assert body == (playlist.directory / "live.m3u8").read_bytes()
    assert 'URI="part_000002_2.ts"' in body.decode()
    assert (headers["content-type"], headers["cache-control"]) == ("application/vnd.apple.mpegurl", "no-cache")
    assert headers["x-content-type-options"] == "nosniff"


async def test_a_reload_for_what_is_there_is_answered_at_once_and_a_plain_one_goes_to_django(playlist):
    behind = Passed()
    app = LowLatencyHls(behind)
    for query in ("_HLS_msn=1", "_HLS_msn=2&_HLS_part=0", "_HLS_msn=0&_HLS_part=3"):
        assert (await get(app, LIVE, query))[0] == 200, query
    assert (await get(app, LIVE, "bust=1"))[0] == 299  # no directive: Django's view
    assert (await get(app, f"/hls/{EVENT}/segment_000001.ts"))[0] == 299
    assert behind.paths == [LIVE, f"/hls/{EVENT}/segment_000001.ts"]


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("_HLS_msn=4", 400),  # more than two segments after the newest whole one (1)
        ("_HLS_msn=2&_HLS_part=12", 400),  # past the Advance Part Limit
        ("_HLS_part=1", 400),
        ("_HLS_msn=two", 400),
        ("_HLS_msn=-1", 400),
        ("_HLS_msn=1&_HLS_msn=2", 400),
    ],
)
async def test_far_future_and_malformed_requests_are_refused_at_once(playlist, query, status):
    assert (await get(LowLatencyHls(Passed()), LIVE, query))[0] == status
    assert not watch(playlist.directory / "live.m3u8")._waiters


async def test_without_a_pass_nothing_is_answered_or_awaited(playlist):
    app = LowLatencyHls(Passed())
    assert (await get(app, LIVE, "_HLS_msn=2&_HLS_part=5", cookie=""))[0] == 403
    assert (await get(app, LIVE, "_HLS_msn=2&_HLS_part=5", cookie=a_pass(EVENT + 1)))[0] == 403
    assert (await get(app, f"/hls/{EVENT}/part_000002_0.ts", cookie="1~x"))[0] == 403


async def test_a_part_that_does_not_come_in_three_target_durations_is_503(playlist, monkeypatch):
    monkeypatch.setattr("streaming.core.delivery.HOLD_TARGET_DURATIONS", 0.05)
    assert (await get(LowLatencyHls(Passed()), LIVE, "_HLS_msn=2&_HLS_part=1"))[0] == 503


async def test_the_hinted_part_is_served_as_soon_as_it_is_written(playlist):
    app = LowLatencyHls(Passed())
    status, headers, body = await get(app, f"/hls/{EVENT}/part_000002_0.ts")
    assert (status, body, headers["cache-control"]) == (200, b"2.0", "private, max-age=86400, immutable")
    assert headers["content-type"] == "video/mp2t"
    hinted = asyncio.create_task(get(app, f"/hls/{EVENT}/part_000002_1.ts"))
    await waiting(playlist.directory / "live.m3u8")
    publish_parts(playlist, 2, range(1, 2))
    assert (await asyncio.wait_for(hinted, 5))[:3:2] == (200, b"2.1")
    # Far ahead, or its time gone (segment 0 had seven parts): not found, at once.
    for name in ("part_000009_0.ts", "part_000000_9.ts"):
        assert (await get(app, f"/hls/{EVENT}/{name}"))[0] == 404, name


async def test_a_thousand_waiting_requests_hold_no_thread_and_the_watch_stops_when_none_waits(playlist):
    app = LowLatencyHls(Passed())
    threads = threading.active_count()
    requests = [asyncio.create_task(get(app, LIVE, "_HLS_msn=2&_HLS_part=1")) for _ in range(1000)]
    path = playlist.directory / "live.m3u8"
    await waiting(path, 1000)
    assert threading.active_count() == threads
    publish_parts(playlist, 2, range(1, 2))
    answers = await asyncio.wait_for(asyncio.gather(*requests), 10)
    assert {status for status, _, _ in answers} == {200}
    # No one waits any more: the watch stops looking at the file.
    deadline = time.monotonic() + 5
    while watch(path).looking:
        assert time.monotonic() < deadline, "the watch goes on looking"
        await asyncio.sleep(0.001)


async def test_a_waiter_has_the_playlist_on_the_loops_turn_after_the_look_that_saw_it(playlist):
    """On a saturated server each turn of the loop serves hundreds of requests first: the look is
    a timer's callback and hands the text straight to the waiter (no task sleeping between looks,
    no `asyncio.wait_for` in between), so a stage change reaches a low-latency viewer a turn later."""
    path = playlist.directory / "live.m3u8"
    looking = PlaylistWatch(path, poll_seconds=3600)  # no look but the first, and those made here
    waiter = asyncio.ensure_future(looking.wait(lambda at: delivery.holds(at, delivery.Directive(2, 1)), 10))
    while not looking.looks:  # the first look, when the wait began: part 1 is not there yet
        await asyncio.sleep(0)
    publish_parts(playlist, 2, range(1, 2))
    looking._look()
    await asyncio.sleep(0)  # one turn
    assert waiter.done() and waiter.result() == path.read_bytes()
    assert not looking._waiters
    looking._look()
    assert not looking.looking  # nobody waits: no more looks
