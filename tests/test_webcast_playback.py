"""A viewer's browser plays the live webcast with the vendored hls.js, loading nothing from outside:
low-latency HLS (parts, blocking playlist reload through daphne's handler), without a stall."""

import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from events.registration import register
from streaming.bench.audience_load import parts_per_segment
from tests.browser import chromium, wait_for_script
from tests.factories import PASSWORD, make_event, make_producer, make_tone_presenter
from tests.live import Browser, StageClient, running_server

pytestmark = [pytest.mark.live, pytest.mark.browser, pytest.mark.timeout(120)]


@contextmanager
def on_air(base: str, event, presenter) -> Iterator[Browser]:
    """The show live with `presenter` on air, by the producer's console; yields the producer's client."""
    producer = Browser(base)
    producer.post_form("/accounts/login/", {"username": "producer", "password": PASSWORD})
    with producer.websocket(f"/ws/events/{event.pk}/console/") as socket:
        console = StageClient(socket)
        assert console.command("go_live")["type"] == "ack"
        assert console.command("set_on_air", line=presenter.line_id, on_air=True)["type"] == "ack"
        yield producer


@pytest.fixture
def keynote(settings):
    """An event with a presenter whose line is a tone, and a producer."""
    settings.CELERY_TASK_ALWAYS_EAGER = True
    event = make_event("keynote", title="Keynote")
    make_producer(event)
    return event, make_tone_presenter(event, "Alice", 440)


@pytest.mark.django_db(transaction=True)
def test_a_seated_viewer_plays_low_latency_and_an_unseated_one_whole_segments_in_chromium(keynote, hls_root):
    """One show, two viewers' pages, one low-latency seat: the first page takes it."""
    event, alice = keynote
    seated, unseated = (register(event, name=name, email=f"{name}@example.com") for name in ("vera", "walt"))

    with (
        running_server(HLS_ROOT=str(hls_root), HLS_LOW_LATENCY_SEATS="1") as base,
        on_air(base, event, alice),
        chromium() as browser,
    ):
        outside, media = [], {"seated": [], "unseated": []}
        pages = {}
        for who, registration in (("seated", seated), ("unseated", unseated)):
            page = pages[who] = browser.new_page()  # a context of its own: its own join session
            page.on(
                "request",
                lambda request: request.url.startswith((base, "blob:" + base)) or outside.append(request.url),
            )
            page.on(
                "requestfinished", lambda request, who=who: "/hls/" in request.url and media[who].append(request.url)
            )
            page.goto(base + registration.get_join_url())
            assert page.url.endswith("/e/keynote/watch/")
            # The seat is the first pass's: the second page opens once the first has its playlist.
            wait_for_script(page, "window.Hls && Hls.isSupported()", timeout=10_000)
            wait_for_script(page, "performance.getEntriesByType('resource').some((e) => e.name.includes('.m3u8'))")

        # Playing means the media clock runs: hls.js fetched, demuxed and buffered the AAC.
        for page in pages.values():
            wait_for_script(page, "document.getElementById('program').currentTime > 2", timeout=45_000)
        # ...and keeps running without a stall: three more seconds of media play, the player
        # never waiting for data meanwhile, and it is not paused.
        page = pages["seated"]
        played_at = page.evaluate(
            "(() => { const audio = document.getElementById('program'); window.stalls = 0;"
            " audio.addEventListener('waiting', () => { window.stalls += 1; }); return audio.currentTime; })()"
        )
        later = f"document.getElementById('program').currentTime > {played_at + 3}"
        wait_for_script(page, later, timeout=30_000)
        assert page.evaluate("window.stalls") == 0
        assert page.evaluate("document.getElementById('program').paused") is False
        # Low-latency HLS: hls.js asked for the playlist with delivery directives (answered
        # when the part was there) and played parts, not only whole segments.
        assert any(re.search(r"live\.m3u8\?_HLS_msn=\d+&_HLS_part=\d+$", url) for url in media["seated"])
        assert any(re.search(r"/part_\d{6}_\d+\.ts$", url) for url in media["seated"])
        # ...and the page says, quietly, how far behind live the listener is.
        behind = page.text_content("#latency")
        assert re.fullmatch(r"\d+\.\d s behind live", behind), behind
        assert float(behind.split()[0]) < 4.5, behind  # whole segments alone: about 6 s

        # The viewer without a seat: hls.js out of low-latency mode, whole segments, no part. It
        # still reloads the playlist blocking where the server can, but for a segment's last
        # part: once a segment.
        plain = media["unseated"]
        assert any(re.search(r"/segment_\d{6}\.ts$", url) for url in plain)
        assert not any("/part_" in url for url in plain), plain
        reloads = [re.search(r"live\.m3u8\?_HLS_msn=\d+&_HLS_part=(\d+)$", url) for url in plain]
        assert {int(found[1]) for found in reloads if found} == {parts_per_segment() - 1}, plain
        assert outside == []
