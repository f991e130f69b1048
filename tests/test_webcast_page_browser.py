"""The viewer's webcast page in Chromium, on a phone-sized screen, through every state of a show
without a reload: the countdown before the start; live, the stage card from the stream's own
EXT-X-DATERANGE tags switching when playback reaches a tag's date (not when the playlist brings
it); the question on screen as text; the hold slate; the thank-you when the stream ends; then the
replay, whose chapters seek.

The stream is real: the project's encoder and playlist writer make it in real time into the
server's HLS_ROOT. The stage tags are written into the playlist text here, in the format the
mixer writes them (another part of the code base), so this test holds the page to that format.
"""

import re
import shutil
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from events import sound_check
from events.models import Event, Presenter, Segment
from events.registration import register
from stage.models import StageState
from streaming.core.encoder import AAC_FRAME_SAMPLES, AacSegmenter
from streaming.core.playlist import PlaylistWriter
from streaming.core.recording import Chapter, write_chapter_files
from tests.browser import chromium, wait_for_script
from tests.factories import make_event
from tests.live import running_server

pytestmark = [pytest.mark.live, pytest.mark.browser, pytest.mark.timeout(180)]

SEGMENT_FRAMES = 47  # about one second a segment: the test moves through the show quickly
PHONE = {"width": 360, "height": 740}

# Runs before the page's scripts (DevTools injects it; no page policy applies to it): keeps a
# handle on the page's hls.js player, records the playing date at which each stage tag first
# arrived and at which the now-speaking name changed, and collects policy violations.
SPY = """
window.__violations = [];
document.addEventListener("securitypolicyviolation",
  (event) => window.__violations.push(`${event.violatedDirective} ${event.blockedURI}`));
window.__tagArrived = {};
window.__speaking = [];
const playing = () => (window.__hls && window.__hls.playingDate ? window.__hls.playingDate.getTime() : null);
let realHls;
Object.defineProperty(window, "Hls", { configurable: true, get: () => realHls, set(value) {
  realHls = class extends value {
    constructor(...args) {
      super(...args);
      window.__hls = this;
      for (const name of [value.Events.LEVEL_LOADED, value.Events.LEVEL_UPDATED]) {
        this.on(name, (_event, data) => {
          for (const id of Object.keys(data.details.dateRanges || {})) {
            if (!(id in window.__tagArrived)) window.__tagArrived[id] = playing();
          }
        });
      }
    }
  };
} });
document.addEventListener("DOMContentLoaded", () => {
  const speaking = document.getElementById("speaking");
  new MutationObserver(() => window.__speaking.push({ text: speaking.textContent, playing: playing() }))
    .observe(speaking, { childList: true, characterData: true, subtree: true });
});
"""

# What a browser's autoplay policy does to a page the viewer has not touched yet.
REFUSE_AUTOPLAY_ONCE = """() => {
  const play = HTMLMediaElement.prototype.play;
  HTMLMediaElement.prototype.play = function () {
    HTMLMediaElement.prototype.play = play;
    return Promise.reject(new DOMException("play() needs a user gesture", "NotAllowedError"));
  };
}"""


def escape(text: str) -> str:
    """The mixer's percent escapes for an attribute value."""
    return text.replace("%", "%25").replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


def stage_tag(number: int, start: datetime, speaking=(), segment="", hold=False, question="", asker="") -> str:
    start_text = start.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return (
        f'#EXT-X-DATERANGE:ID="stage-{number}",CLASS="net.webcast.stage",START-DATE="{start_text}",'
        f'END-ON-NEXT=YES,X-PHASE="live",X-HOLD="{"YES" if hold else "NO"}",'
        f'X-SPEAKING="{escape(chr(10).join(speaking))}",X-SEGMENT="{escape(segment)}",'
        f'X-QUESTION="{escape(question)}",X-QUESTION-NAME="{escape(asker)}"'
    )


def with_tags(playlist: str, tags: list[str]) -> str:
    lines = playlist.splitlines()
    first = next((i for i, line in enumerate(lines) if line.startswith("#EXT-X-PROGRAM-DATE-TIME")), len(lines))
    return "\n".join(lines[:first] + tags + lines[first:]) + "\n"


class TaggedWriter(PlaylistWriter):
    """The project's playlist writer, plus stage tags in both playlists; the replay's list is
    closed only when the test says the replay is ready."""

    def __init__(self, *args, **kwargs) -> None:
        self.tags: list[str] = []
        self.replay_ready = False
        super().__init__(*args, **kwargs)

    def render_live(self) -> str:
        return with_tags(super().render_live(), list(self.tags))

    def render_vod(self) -> str:
        text = with_tags(super().render_vod(), list(self.tags))
        return text if self.replay_ready else text.replace("#EXT-X-ENDLIST\n", "")


class LiveStream(threading.Thread):
    """A 330 Hz tone published segment by segment in real time, as a mixer does."""

    def __init__(self, directory: Path) -> None:
        super().__init__(name="test-live-stream", daemon=True)
        self.writer = TaggedWriter(directory, target_duration=1, window=6)
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.began = datetime.now(UTC)
        self.edge = self.began  # the program date-time where the next segment starts

    def run(self) -> None:
        segmenter = AacSegmenter(frames_per_segment=SEGMENT_FRAMES)
        phase, started = 0, time.monotonic()
        while not self.stopping.is_set():
            samples = np.arange(phase, phase + AAC_FRAME_SAMPLES) / 48000
            phase += AAC_FRAME_SAMPLES
            tone = (0.2 * np.sin(2 * np.pi * 330 * samples)).astype(np.float32)
            for segment in segmenter.push(np.stack([tone, tone])):
                with self.lock:
                    self.writer.add_segment(segment.data, segment.duration, self.edge)
                    self.edge += timedelta(seconds=segment.duration)
                # Paced by the program clock: a segment goes out when its audio has "happened".
                self.stopping.wait(max(0.0, started + (self.edge - self.began).total_seconds() - time.monotonic()))
        with self.lock:
            self.writer.end()

    def tag(self, number: int, ahead: float, **card) -> datetime:
        """Put a stage tag `ahead` seconds past the live edge into the playlists; its date."""
        with self.lock:
            start = self.edge + timedelta(seconds=ahead)
            self.writer.tags.append(stage_tag(number, start, **card))
        return start

    def close_replay(self) -> None:
        with self.lock:
            self.writer.replay_ready = True
            self.writer.end()


def set_phase(event, phase: str) -> None:
    """The stage's phase as the status reads it, without a mixer: the stream here is the test's."""
    document = {"phase": phase, "version": 1 + ["preshow", "live", "ended"].index(phase)}
    StageState.objects.update_or_create(event=event, defaults={"document": document, "initial_document": document,
                                                               "version": document["version"]})


def shown(page, element_id: str) -> bool:
    return page.evaluate(f"!document.getElementById('{element_id}').closest('[hidden]')")


@pytest.mark.django_db(transaction=True)
def test_the_page_moves_through_every_state_and_the_card_follows_the_ear(tmp_path, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    event = make_event("stagecard", title="Stage card show", starts_at=datetime.now(UTC) + timedelta(hours=1))
    ada = Presenter.objects.create(event=event, name="Ada", position=1)
    bo = Presenter.objects.create(event=event, name="Bo", position=2)
    Segment.objects.create(event=event, title="Opening", position=1).presenters.add(ada)
    Segment.objects.create(event=event, title="Panel", position=2).presenters.add(bo)
    registration = register(event, name="Vera Viewer", email="vera@example.com")
    hls_root = tmp_path / "hls"
    directory = hls_root / str(event.pk)
    directory.mkdir(parents=True)
    stream = LiveStream(directory)

    with running_server(HLS_ROOT=str(hls_root), MIXER_AUTOSTART="false") as base, chromium() as browser:
        context = browser.new_context(viewport=PHONE)
        context.add_init_script(SPY)
        page = context.new_page()
        errors, outside = [], []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("request", lambda request: request.url.startswith((base, "blob:" + base))
                or outside.append(request.url))
        # The show starts in under two minutes, when the page polls its status every 2 s, not every
        # 10 s (pollDelay's tiers have a unit test): it notices the live phase promptly below.
        starts_at = datetime.now(UTC) + timedelta(seconds=100)
        Event.objects.filter(pk=event.pk).update(starts_at=starts_at)
        page.goto(base + registration.get_join_url())

        # Before the start: the countdown runs, the agenda and the audio test are there, nothing overflows.
        countdown = wait_for_script(page, "document.getElementById('countdown').textContent.match(/^Starts in \\S+$/)"
                                    " && document.getElementById('countdown').textContent")
        read_at = datetime.now(UTC)
        minutes, seconds = map(int, re.fullmatch(r"Starts in (\d+):(\d\d)", countdown).groups())
        # Whole seconds left, rounded up, as of some instant between the page's tick and this read.
        assert (starts_at - read_at).total_seconds() - 1 <= 60 * minutes + seconds <= 100
        assert page.evaluate("document.getElementById('player').hidden") is True
        assert page.evaluate("[...document.querySelectorAll('#agenda .title')].map((e) => e.textContent)") == [
            "Opening", "Panel"]
        page.click("#sound-check")
        wait_for_script(page, "document.getElementById('sound-check-result').textContent.startsWith('Did you hear')")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

        # Live, before the mixer's first segment: the page waits for the playlist and retries.
        set_phase(event, "live")
        wait_for_script(page, "document.getElementById('player-note').textContent === 'Waiting for the stream…'",
                        timeout=20_000)
        assert shown(page, "live-badge") and shown(page, "program")
        # The stream starts; the first tag (Ada, Opening) is in force from its first sample. This
        # browser allows autoplay, so the page is made to meet a refusal as a stricter one would.
        page.evaluate(REFUSE_AUTOPLAY_ONCE)
        stream.writer.tags.append(stage_tag(1, stream.began, speaking=["Ada"], segment="Opening"))
        stream.start()
        wait_for_script(page, "!document.getElementById('play').hidden", timeout=30_000)
        page.click("#play")
        wait_for_script(page, "document.getElementById('speaking').textContent === 'Ada'", timeout=40_000)
        wait_for_script(page, "document.getElementById('play').hidden")
        assert page.evaluate("document.getElementById('program').paused") is False
        assert shown(page, "live-badge") and not shown(page, "status-label")  # one LIVE mark, by the player
        assert page.inner_text("#segment") == "Opening"
        assert page.evaluate("document.querySelector('#agenda li[aria-current=step] .title').textContent") == "Opening"

        # Bo is taken to air a few seconds ahead of the live edge: the tag is in the playlist well
        # before the ear reaches it, and the card changes only when playback gets there.
        question = 'Why <img src=x onerror="window.__xss=1"> 100% "live"?'
        bo_at = stream.tag(2, 3.0, speaking=["Bo", "Ada"], segment="Panel", question=question, asker="Vera")
        wait_for_script(page, "document.getElementById('speaking').textContent === 'Bo and Ada'", timeout=30_000)
        bo_ms = bo_at.timestamp() * 1000
        arrived = page.evaluate("window.__tagArrived['stage-2']")
        changes = page.evaluate("window.__speaking")
        switch = next(change for change in changes if change["text"] == "Bo and Ada")
        assert arrived < bo_ms  # the playlist brought the tag before the ear reached it...
        assert bo_ms <= switch["playing"] < bo_ms + 1000  # ...and the card changed when playback got there
        assert all(change["text"] == "Ada" for change in changes[: changes.index(switch)])
        assert page.inner_text("#on-screen-text") == question and page.inner_text("#on-screen-name") == "Asked by Vera"
        assert page.evaluate("window.__xss") is None
        assert page.evaluate("document.querySelector('#agenda li[aria-current=step] .title').textContent") == "Panel"

        # The network drops until hls.js gives up; the page reconnects by itself once it is back.
        page.route("**/hls/**", lambda route: route.abort())
        wait_for_script(page, "document.getElementById('player-note').textContent === 'Reconnecting…'",
                        timeout=60_000)
        page.unroute("**/hls/**")
        played = page.evaluate("document.getElementById('program').currentTime")
        wait_for_script(page, f"document.getElementById('program').currentTime > {played + 2}"
                        " && document.getElementById('player-note').textContent === ''", timeout=60_000)

        # Hold: the slate, while the hold audio keeps playing.
        stream.tag(3, 1.0, hold=True)
        wait_for_script(page, "!document.getElementById('view-hold').hidden", timeout=30_000)
        assert page.evaluate("document.getElementById('program').paused") is False
        assert shown(page, "live-badge")

        # The end: the stream plays out, then the thank-you, until the replay is ready.
        set_phase(event, "ended")
        stream.stopping.set()
        stream.join(10)
        wait_for_script(page, "document.getElementById('webcast').dataset.view === 'ended'", timeout=30_000)
        assert shown(page, "view-ended") and not shown(page, "player") and not shown(page, "live-badge")

        # The replay: chapters and the download appear, and a chapter seeks there.
        total = (stream.edge - stream.began).total_seconds()
        panel_at = round((bo_at - stream.began).total_seconds(), 3)
        write_chapter_files(directory, [Chapter(0.0, panel_at, "Opening"), Chapter(panel_at, total, "Panel")])
        shutil.copyfile(sound_check.PATH, directory / "program.m4a")
        stream.close_replay()
        wait_for_script(page, "document.querySelectorAll('#chapters button').length === 2", timeout=30_000)
        assert page.evaluate("document.getElementById('webcast').dataset.view") == "replay"
        assert page.inner_text("#status-label") == "Replay available"
        assert page.evaluate("document.getElementById('download').getAttribute('href')") == (
            f"/hls/{event.pk}/program.m4a")
        assert page.evaluate("[...document.querySelectorAll('#chapters button')].map((b) => b.textContent)") == [
            "0:00 Opening", f"0:{int(panel_at):02d} Panel"]
        page.click("#chapters li:nth-child(2) button")
        wait_for_script(page, "document.querySelector('#chapters li:nth-child(2) button[aria-current=true]')",
                        timeout=20_000)
        assert page.evaluate("document.getElementById('program').currentTime") >= panel_at
        # The replay carries the same tags: the card there is Bo's, as it was live.
        wait_for_script(page, "document.getElementById('speaking').textContent === 'Bo and Ada'", timeout=20_000)

        assert page.evaluate("window.__violations") == []
        assert errors == [] and outside == []
