"""A viewer's browser plays the live webcast with the vendored hls.js, loading nothing from outside."""

import pytest

from events.registration import register
from tests.browser import chromium, wait_for_script
from tests.factories import PASSWORD, make_event, make_producer, make_tone_presenter
from tests.live import Browser, StageClient, running_server

pytestmark = [pytest.mark.live, pytest.mark.browser, pytest.mark.timeout(120)]


@pytest.mark.django_db(transaction=True)
def test_viewer_hears_the_live_program_in_chromium(tmp_path, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    event = make_event("keynote", title="Keynote")
    alice = make_tone_presenter(event, "Alice", 440)
    make_producer(event)
    registration = register(event, name="Vera Viewer", email="vera@example.com")
    hls_root = tmp_path / "hls"
    hls_root.mkdir()

    with running_server(HLS_ROOT=str(hls_root)) as base:
        producer = Browser(base)
        producer.post_form("/accounts/login/", {"username": "producer", "password": PASSWORD})
        with producer.websocket(f"/ws/events/{event.pk}/console/") as socket:
            console = StageClient(socket)
            assert console.command("go_live")["type"] == "ack"
            assert console.command("set_on_air", line=alice.line_id, on_air=True)["type"] == "ack"

            with chromium() as browser:
                page = browser.new_page()
                outside = []
                page.on(
                    "request",
                    lambda request: request.url.startswith((base, "blob:" + base)) or outside.append(request.url),
                )
                page.goto(base + registration.get_join_url())
                assert page.url.endswith("/e/keynote/watch/")
                wait_for_script(page, "window.Hls && Hls.isSupported()", timeout=10_000)
                # Playing means the media clock runs: hls.js fetched, demuxed and buffered the AAC.
                wait_for_script(page, "document.getElementById('program').currentTime > 2", timeout=45_000)
                # ...and keeps running: another second of media plays, and the player is not paused.
                played_at = page.evaluate("document.getElementById('program').currentTime")
                later = f"document.getElementById('program').currentTime > {played_at + 1}"
                wait_for_script(page, later, timeout=30_000)
                assert page.evaluate("document.getElementById('program').paused") is False
                assert outside == []
