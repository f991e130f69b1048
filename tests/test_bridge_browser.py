"""The two-way bridge end to end, all real: three Debian Chromiums with fake microphones playing
distinct tones (Ada, Bob, the producer), the green rooms and the console speaking WebRTC to the
event's mixer (aiortc in the embedded mixer child process, or in a Celery mixer worker scaled
out), on 127.0.0.1 only. What each browser hears is measured in the browser itself
(streaming/bench/probe.js); what the audience hears is the HLS and the replay, decoded with PyAV.

Each presenter's return carries the other and not themselves; talkback reaches its target only;
pre-listen of a line off air reaches the producer only; two presenters off air talk backstage;
none of it is in the HLS or program.m4a. A cut WebRTC connection comes back on the same line by
itself, and the console shows the gap; a reloaded green room keeps its place on air; a browser
without WebRTC uses the WebSocket uplink."""

import re
import time
import uuid
from contextlib import ExitStack
from pathlib import Path

import numpy as np
import pytest
from django.conf import settings
from websockets.sync.client import connect as ws_connect

from events.harness import chromiums, wait_for
from events.models import Presenter
from streaming.bench.bench_bridge import PROBE, WEBRTC_ARGS
from streaming.bench.signals import write_wav
from tests.audio import SAMPLE_RATE, decode, decode_segment, tone_level
from tests.factories import make_event, make_producer
from tests.live import StageClient, running_server
from tests.stage.test_console_browser import session_key, signed_in
from tests.test_greenroom_uplink import segment_times

pytestmark = [pytest.mark.live, pytest.mark.browser, pytest.mark.both_modes, pytest.mark.timeout(300)]

ADA, BOB, PRODUCER = 600.0, 900.0, 1300.0
TONES = [ADA, BOB, PRODUCER]
HEARD_DB = -45.0  # a tone at 0.3 of full scale is about -20 dBFS in the analyser
# Far below the tones heard (50 dB and more), at the floor of what Opus leaves around other
# tones and of the concealment a loaded machine makes it play: what "no trace" means in a browser.
ABSENT_DB = -70.0
ABSENT = 0.001  # the same in decoded HLS (amplitude; the tones reach about 0.1)


def tone_file(path: Path, frequency: float) -> Path:
    write_wav(path, 0.3 * np.sin(2 * np.pi * frequency * np.arange(6 * SAMPLE_RATE) / SAMPLE_RATE))
    return path


def microphone(path: Path) -> list[str]:
    return [*WEBRTC_ARGS, f"--use-file-for-fake-audio-capture={path}"]


def levels(page, *, which: str = "remote") -> dict[float, float]:
    """dBFS of each tone in what the page hears (its return or monitor) or says (its microphone)."""
    found = page.evaluate("([which, tones]) => window.__probe.levels(which, tones)", [which, TONES])
    return dict(zip(TONES, found, strict=True)) if found else {}


def hears(page, present: tuple[float, ...], absent: tuple[float, ...] = ()):
    """A condition: the page hears `present` (each above HEARD_DB) and not `absent`."""

    def met():
        heard = levels(page)
        return bool(heard) and all(heard[t] > HEARD_DB for t in present) and all(heard[t] < ABSENT_DB for t in absent)

    return met


def open_green_room(browser, base: str, presenter: Presenter, *, webrtc: bool = True):
    context = browser.new_context()
    context.add_init_script(PROBE if webrtc else PROBE + "\ndelete window.RTCPeerConnection;")
    page = context.new_page()
    page.goto(base + presenter.get_greenroom_url())
    page.click("#mic-allow")
    page.check("#mic-studio")  # the tones are steady: noise suppression would take them for noise
    page.click("#check-in")
    page.click("#uplink-toggle")
    return page


def console_socket(sockets: ExitStack, base: str, event, session: str) -> StageClient:
    """The producer's console socket. Meters arrive ten times a second and are read only at
    commands: no queue bound, and no keepalive pings, whose pongs would wait behind them."""
    url = f"ws://{base.removeprefix('http://')}/ws/events/{event.pk}/console/"
    headers = {"Origin": base, "Cookie": f"sessionid={session}"}
    return StageClient(
        sockets.enter_context(ws_connect(url, additional_headers=headers, max_queue=None, ping_interval=None))
    )


def mixer_runner() -> dict[str, str]:
    """Scaled out, the mixer runs in a Celery worker (its own queue); embedded, a child process."""
    if settings.REDIS_URL:
        return {"MIXER_RUNNER": "celery", "MIXER_QUEUE": f"mixer-bridge-{uuid.uuid4().hex[:8]}"}
    return {"MIXER_RUNNER": "local"}


def do(console, type_: str, **fields) -> None:
    """A producer's command, sent again once if presenters' comings and goings made it stale."""
    reply = console.command(type_, **fields)
    if reply["type"] == "refused" and reply["error"]["code"] == "stale_version":
        reply = console.command(type_, **fields)
    assert reply["type"] == "ack", reply


@pytest.mark.django_db(transaction=True)
def test_a_panel_talks_through_the_bridge_and_the_audience_hears_only_the_program(tmp_path, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    event = make_event("panel", title="Panel")
    ada = Presenter.objects.create(event=event, name="Ada", position=1)
    bob = Presenter.objects.create(event=event, name="Bob", position=2)
    session = session_key(make_producer(event, "alice"))
    hls_root = tmp_path / "hls"
    hls_root.mkdir()
    files = [tone_file(tmp_path / f"{name}.wav", tone) for name, tone in zip(("ada", "bob", "pro"), TONES, strict=True)]
    windows = {}

    with (
        # A reload must not cost Ada her place on air, however slow the machine is today.
        running_server(HLS_ROOT=str(hls_root), STAGE_PRESENCE_GRACE_SECONDS="30", **mixer_runner()) as base,
        chromiums([microphone(path) for path in files]) as (ada_browser, bob_browser, producer_browser),
        ExitStack() as sockets,
    ):
        console = console_socket(sockets, base, event, session)
        do(console, "go_live")
        ada_page = open_green_room(ada_browser, base, ada)
        bob_page = open_green_room(bob_browser, base, bob)
        for page in (ada_page, bob_page):
            page.wait_for_selector("#link-path[data-path=webrtc]", timeout=30_000)
        context = signed_in(producer_browser, base, session)
        context.add_init_script(PROBE)
        desk = context.new_page()
        desk.goto(f"{base}/console/{event.pk}/")
        desk.click("#talkback-connect")
        desk.wait_for_selector("#talkback-status[data-status=connected]", timeout=30_000)

        # A panel: both on air, each hears the other in their return and not themselves.
        for line in (ada.line_id, bob.line_id):
            do(console, "set_on_air", line=line, on_air=True)
        wait_for(hears(ada_page, (BOB,), (ADA, PRODUCER)), 30, "Ada hearing Bob, not herself")
        wait_for(hears(bob_page, (ADA,), (BOB, PRODUCER)), 30, "Bob hearing Ada, not himself")
        windows["panel"] = (time.time(), None)
        # Her line's round trip on her card: Chromium's receiver reports answering the sender
        # reports of her return (whose counters and timestamps the bridge keeps as it sends).
        link = desk.locator(f".card[data-presenter='{ada.line_id}'] .link")
        wait_for(lambda: re.match(r"WebRTC · \d+ ms · jitter", link.text_content() or ""), 15, "Ada's round trip")

        # Talkback to Ada: in her ear only, the program ducked under it; her green room says so.
        talk = desk.locator(f".card[data-presenter='{ada.line_id}'] .talk")
        talk.hover()
        desk.mouse.down()
        ada_page.wait_for_selector("#talkback[data-talking=true]", timeout=10_000)
        wait_for(hears(ada_page, (PRODUCER, BOB), (ADA,)), 15, "the producer in Ada's ear")
        talk_started = time.time()
        wait_for(lambda: time.time() > talk_started + 4, 5, "four seconds of talkback")
        heard_by_bob = levels(bob_page)
        assert heard_by_bob[PRODUCER] < ABSENT_DB, f"talkback to Ada leaked into Bob's return: {heard_by_bob}"
        desk.mouse.up()
        windows["talkback"] = (talk_started, time.time())
        wait_for(hears(ada_page, (BOB,), (PRODUCER,)), 15, "talkback over")
        # The "Producer talking" sign goes with the talk's end, which reaches her page by its own
        # message: not always before her ear stops hearing the producer.
        ada_page.wait_for_selector("#talkback:not([data-talking=true])", state="attached", timeout=10_000)

        # Bob leaves the air; the producer pre-listens to his line before taking him again.
        do(console, "set_on_air", line=bob.line_id, on_air=False)
        desk.select_option("#monitor-listen", f"line:{bob.line_id}")
        wait_for(hears(desk, (BOB,)), 15, "Bob's line in the producer's monitor")
        # Ada, on air, no longer hears Bob (not in the program, backstage not open to her).
        wait_for(hears(ada_page, (), (BOB,)), 15, "Ada not hearing Bob off air")
        pfl_started = time.time()
        wait_for(lambda: time.time() > pfl_started + 4, 5, "four seconds of pre-listen")

        # Both off air: backstage, they talk with each other.
        do(console, "set_on_air", line=ada.line_id, on_air=False)
        wait_for(hears(ada_page, (BOB,), (ADA,)), 15, "Ada hearing Bob backstage")
        wait_for(hears(bob_page, (ADA,), (BOB,)), 15, "Bob hearing Ada backstage")
        backstage_started = time.time()
        wait_for(lambda: time.time() > backstage_started + 4, 5, "four seconds of backstage")
        windows["off_air"] = (pfl_started, time.time())

        # Ada's WebRTC connection is cut: it comes back on the same line by itself, on air, and
        # the console shows the gap; Bob hears nothing of it.
        do(console, "set_on_air", line=ada.line_id, on_air=True)
        wait_for(hears(bob_page, (ADA,)), 15, "Ada on air again")
        gaps = desk.locator(f".card[data-presenter='{ada.line_id}'] .gaps")
        gaps_before = int(gaps.get_attribute("data-gaps") or 0)
        ada_page.evaluate("window.__probe.cut()")
        wait_for(lambda: int(gaps.get_attribute("data-gaps") or 0) > gaps_before, 15, "the gap on the console")
        ada_page.wait_for_selector("#link-path[data-path=webrtc][data-rtc=connected]", timeout=30_000)
        wait_for(hears(bob_page, (ADA,)), 20, "Ada's line back")
        assert console.until(lambda state: state, 5, "the state")["lines"][ada.line_id]["on_air"] is True

        # Ada reloads her green room: the same line, still on air; it connects again by itself
        # (no click: the tab remembers she was connected) and she is heard.
        ada_page.reload()
        ada_page.wait_for_selector("#link-path[data-path=webrtc][data-rtc=connected]", timeout=30_000)
        wait_for(hears(bob_page, (ADA,)), 20, "Ada heard again after her reload")
        assert console.until(lambda state: state, 5, "the state")["lines"][ada.line_id]["on_air"] is True

        # A browser without WebRTC: the green room sends over the WebSocket uplink and says so.
        carol = Presenter.objects.create(event=event, name="Carol", position=3)
        carol_page = open_green_room(bob_browser, base, carol, webrtc=False)
        carol_page.wait_for_selector("#link-path[data-path=websocket]", timeout=20_000)
        # Up to a minute (a condition waited on): it took more than 20 s once, in the embedded pass
        # with the suite's other pass running beside it.
        wait_for(lambda: carol_page.evaluate("window.greenroom.uplinkState()")["receiving"], 60, "Carol's uplink")

        do(console, "end_show")

    live_dir = hls_root / str(event.pk)
    vod = wait_for(lambda: "#EXT-X-ENDLIST" in (text := (live_dir / "vod.m3u8").read_text()) and text, 30, "ENDLIST")
    heard = [(start, end, decode_segment(live_dir / name)) for name, start, end in segment_times(vod)]

    def inside(window):
        return [samples for start, end, samples in heard if start >= window[0] and end <= window[1]]

    during_talk, off_air = inside(windows["talkback"]), inside(windows["off_air"])
    assert during_talk and off_air, [(start, end) for start, end, _ in heard]
    for samples in during_talk:  # the panel is on air, the producer's voice is not
        assert tone_level(samples, ADA) > 0.02 and tone_level(samples, BOB) > 0.02
        assert tone_level(samples, PRODUCER) < ABSENT
    for samples in off_air:  # pre-listen and backstage: nothing of Bob reaches the audience
        assert tone_level(samples, BOB) < ABSENT
    replay = decode(
        wait_for(lambda: (live_dir / "program.m4a").exists() and (live_dir / "program.m4a"), 30, "replay").read_bytes()
    )
    assert tone_level(replay, PRODUCER) < ABSENT
