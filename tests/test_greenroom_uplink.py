"""A presenter speaks into the webcast from the browser, end to end and all real: Debian's
Chromium with a fake microphone playing a tone opens the green room from the magic link, checks
in and connects the microphone; the uplink crosses daphne and the mode's transport (the runner's
pipe embedded, Redis streams scaled out) to the mixer child; the producer puts the line on air;
the HLS program, decoded with PyAV, carries the tone only from then on."""

import time
from datetime import datetime

import numpy as np
import pytest

from events.harness import wait_for
from events.models import Presenter
from streaming.bench.signals import write_wav
from tests.audio import SAMPLE_RATE, decode_segment, playlist_segments, tone_level
from tests.browser import chromium
from tests.factories import PASSWORD, make_event, make_producer
from tests.live import Browser, StageClient, running_server
from tests.supervision.playlists import published, wait_published

TONE = 660.0

pytestmark = [pytest.mark.live, pytest.mark.browser, pytest.mark.both_modes, pytest.mark.timeout(240)]


def segment_times(playlist: str) -> list[tuple[str, float, float]]:
    """(segment, start, end) in wall-clock seconds from the playlist's program date-time."""
    times, start, duration = [], None, None
    for line in playlist.splitlines():
        if line.startswith("#EXT-X-PROGRAM-DATE-TIME:"):
            start = datetime.fromisoformat(line.split(":", 1)[1].replace("Z", "+00:00")).timestamp()
        elif line.startswith("#EXTINF:"):
            duration = float(line.split(":", 1)[1].rstrip(","))
        elif line and not line.startswith("#"):
            times.append((line, start, start + duration))
            start += duration
    return times


@pytest.mark.django_db(transaction=True)
def test_a_presenter_is_heard_in_the_webcast_from_the_browser_only_once_on_air(tmp_path):
    event = make_event("keynote", title="Keynote")
    ada = Presenter.objects.create(event=event, name="Ada", position=1)  # no source: the browser
    make_producer(event)
    hls_root = tmp_path / "hls"
    hls_root.mkdir()
    write_wav(tmp_path / "tone.wav", 0.5 * np.sin(2 * np.pi * TONE * np.arange(5 * SAMPLE_RATE) / SAMPLE_RATE))
    fake_microphone = (
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={tmp_path / 'tone.wav'}",
    )
    with running_server(HLS_ROOT=str(hls_root)) as base, chromium(*fake_microphone) as browser:
        page = browser.new_page()
        page.goto(base + ada.get_greenroom_url())
        page.click("#check-in")
        page.click("#uplink-toggle")

        producer = Browser(base)
        login = {"username": "producer", "password": PASSWORD}
        producer.post_form(f"/accounts/login/?next=/console/{event.pk}/", login)
        with producer.websocket(f"/ws/events/{event.pk}/console/") as socket:
            console = StageClient(socket)
            line = ada.line_id
            console.until(lambda s: s["presenters"][line]["checked_in"], 15, "the check-in on the console")
            assert console.state["presenters"][line]["connected"] is True
            wait_for(lambda: page.evaluate("window.greenroom.uplinkState()")["receiving"], 20, "the uplink received")

            assert console.command("go_live")["type"] == "ack"
            live_dir = hls_root / str(event.pk)
            wait_for(lambda: (live_dir / "live.m3u8").exists(), 30, "the first segment")
            # The mixer decodes the browser's stream while the line is still off air.
            console.until(lambda s: s["lines"][line]["health"] == "ok", 20, "the mixer hearing the line")
            assert page.get_attribute("#tally", "data-tally") == "off"
            wait_published(live_dir, 2, after=published(live_dir))  # program made while the line is heard
            on_air_at = time.time()
            assert console.command("set_on_air", line=line, on_air=True)["type"] == "ack"
            wait_for(lambda: page.get_attribute("#tally", "data-tally") == "program", 5, "the ON AIR tally")

            def on_air_segments() -> int:
                live = (live_dir / "live.m3u8").read_text()
                return sum(1 for _, start, _ in segment_times(live) if start >= on_air_at + 0.5)

            wait_for(lambda: on_air_segments() >= 2, 30, "two segments on air")
            assert console.command("end_show")["type"] == "ack"

        vod_path = live_dir / "vod.m3u8"
        vod = wait_for(lambda: "#EXT-X-ENDLIST" in (text := vod_path.read_text()) and text, 30, "the replay's ENDLIST")
        heard = [
            (start, end, tone_level(decode_segment(live_dir / name), TONE)) for name, start, end in segment_times(vod)
        ]
        before = [level for start, end, level in heard if end <= on_air_at]
        after = [level for start, end, level in heard if start >= on_air_at + 0.5]
        assert len(before) >= 2 and len(after) >= 2, heard
        assert max(before) < 0.002, heard  # streaming, decoded, but off air: not in the program
        assert min(after) > 0.02, heard  # on air: the browser's tone is the program (about 0.045)
        assert len(playlist_segments(vod)) == len(heard)
