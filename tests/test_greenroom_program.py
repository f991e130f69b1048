"""A presenter's green room plays the live program in Chromium: the page gets its media pass by the
green-room key (events/static/events/media-pass.js) before hls.js loads the protected playlist."""

import pytest

from tests.browser import chromium, wait_for_script
from tests.factories import PASSWORD, make_event, make_producer, make_tone_presenter
from tests.live import Browser, StageClient, running_server

pytestmark = [pytest.mark.live, pytest.mark.browser, pytest.mark.timeout(120)]

PROGRAM = "document.getElementById('program-audio')"


@pytest.mark.django_db(transaction=True)
def test_the_green_room_plays_the_protected_program(tmp_path, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    event = make_event("greenroom-program", title="Program return")
    alice = make_tone_presenter(event, "Alice", 440)
    make_producer(event)
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
                answers = []
                page.on("response", lambda response: answers.append((response.request.method, response.url,
                                                                     response.status)))
                page.goto(base + alice.get_greenroom_url())
                # Playing means the media clock runs: hls.js fetched the playlist and segments.
                wait_for_script(page, f"{PROGRAM}.currentTime > 2", timeout=45_000)
                state = page.get_attribute("#program-state", "data-state")
                assert state == "playing", state

    hls = [(method, url.removeprefix(base), status) for method, url, status in answers if "/hls/" in url]
    # The pass came first; then no file was refused (a 404 is the playlist before the mixer wrote it).
    assert hls[0] == ("POST", f"/hls/{event.pk}/pass/", 204), hls[:3]
    files = [answer for answer in hls if answer[0] == "GET"]
    # (Playlist reloads may carry low-latency HLS's delivery directives in their query.)
    suffixes = {url.split("?")[0].rsplit(".", 1)[1] for _, url, status in files if status == 200}
    assert suffixes == {"m3u8", "ts"}, files
    assert {status for _, _, status in files} <= {200, 404}, files
