"""A presenter opens their green room a second time (another tab, another device) and connects:
the new WebRTC call takes their line, and the first page is told, stops and says so, instead of
the two taking the line from each other for ever. In Debian's Chromium, both runners."""

from contextlib import ExitStack

import pytest

from events.harness import chromiums, wait_for
from events.models import Presenter
from streaming.bench.bench_bridge import PROBE
from tests.factories import make_event, make_producer
from tests.live import running_server
from tests.stage.test_console_browser import session_key
from tests.test_bridge_browser import console_socket, do, microphone, mixer_runner, open_green_room, tone_file

pytestmark = [pytest.mark.live, pytest.mark.browser, pytest.mark.both_modes, pytest.mark.timeout(180)]

CONNECTED = "#link-path[data-path=webrtc][data-rtc=connected]"
# What the tab remembers to connect again after a reload.
REMEMBERED = "Object.keys(sessionStorage).filter((key) => key.startsWith('greenroom.connected.'))"


@pytest.mark.django_db(transaction=True)
def test_a_second_tab_takes_the_line_and_the_first_stops(tmp_path, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    event = make_event("takeover", title="Takeover")
    ada = Presenter.objects.create(event=event, name="Ada", position=1)
    session = session_key(make_producer(event, "alice"))
    hls_root = tmp_path / "hls"
    hls_root.mkdir()
    voice = tone_file(tmp_path / "ada.wav", 600.0)

    with (
        running_server(HLS_ROOT=str(hls_root), **mixer_runner()) as base,
        chromiums([microphone(voice)]) as (browser,),
        ExitStack() as sockets,
    ):
        console = console_socket(sockets, base, event, session)
        do(console, "go_live")
        first = open_green_room(browser, base, ada)
        first.wait_for_selector(CONNECTED, timeout=30_000)

        # The same link again, in a tab of its own (no check-in click: she is checked in).
        context = browser.new_context()
        context.add_init_script(PROBE)
        second = context.new_page()
        second.goto(base + ada.get_greenroom_url())
        second.click("#mic-allow")
        second.check("#mic-studio")
        second.click("#uplink-toggle")
        second.wait_for_selector(CONNECTED, timeout=30_000)

        # The first page learnt it was taken over: it stopped, for good, and says why.
        wait_for(lambda: first.evaluate("window.greenroom.lineState().takenOver"), 20, "the first tab told")
        state = first.evaluate("window.greenroom.lineState()")
        assert state["wanted"] is False and state["rtc"] == "idle" and state["path"] == "none"
        assert "another tab or device" in first.text_content("#uplink-detail")
        assert first.get_attribute("#uplink-toggle", "aria-pressed") == "false"
        # A reload of the first tab does not take the line back: it forgot it was connected.
        assert first.evaluate(REMEMBERED) == []

        # The second tab's voice is the line's, over WebRTC.
        do(console, "set_on_air", line=ada.line_id, on_air=True)

        def heard_over_webrtc() -> bool:
            meter = console.receive("meters")["lines"].get(ada.line_id, {})
            return meter.get("link", {}).get("path") == "webrtc" and meter["rms_db"] > -40

        wait_for(heard_over_webrtc, 20, "Ada's voice from her second tab")
        assert second.evaluate("window.greenroom.lineState()")["rtc"] == "connected"
        do(console, "end_show")
