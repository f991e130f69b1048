"""The program card as a viewer's player reads it: the vendored hls.js in Chromium parses the
live playlist's EXT-X-DATERANGE tags into date ranges with the stage's attributes."""

import json
from datetime import datetime

import pytest

from events.harness import wait_for
from events.registration import register
from tests.browser import chromium, wait_for_script
from tests.factories import PASSWORD, make_event, make_producer, make_tone_presenter
from tests.live import Browser, StageClient, running_server
from tests.supervision.playlists import parse

pytestmark = [pytest.mark.live, pytest.mark.browser, pytest.mark.timeout(120)]

NAME = 'Zoë "Z" 100%'

# A second player on the watch page; what hls.js made of the tags goes to window.cards.
READ_DATE_RANGES = """async (src) => {
  // The media pass first, as the page's own player gets it (events/static/events/media-pass.js).
  const page = document.getElementById("webcast").dataset;
  const granted = await fetch(page.mediaPassUrl, { method: "POST", headers: { "X-CSRFToken": page.csrfToken } });
  if (granted.status !== 204) throw new Error(`media pass: ${granted.status}`);
  const player = new Hls({ enableWorker: false, enableDateRangeMetadataCues: false });
  window.cards = [];
  player.on(Hls.Events.LEVEL_LOADED, (_event, data) => {
    window.cards = Object.values(data.details.dateRanges).map((range) => ({
      id: range.id,
      class: range.class,
      valid: range.isValid,
      endOnNext: range.endOnNext,
      start: range.startDate.toISOString(),
      phase: range.attr["X-PHASE"],
      hold: range.attr["X-HOLD"],
      speaking: decodeURIComponent(range.attr["X-SPEAKING"]),
      segment: decodeURIComponent(range.attr["X-SEGMENT"]),
    }));
  });
  player.loadSource(src);
  player.attachMedia(document.createElement("audio"));
}"""


@pytest.mark.django_db(transaction=True)
def test_hlsjs_reads_who_is_speaking_from_the_live_playlist(tmp_path, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    event = make_event("keynote", title="Keynote")
    zoe = make_tone_presenter(event, NAME, 440)
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
            assert console.command("set_on_air", line=zoe.line_id, on_air=True)["type"] == "ack"
            # hls.js never retries a playlist that is not there yet.
            live = hls_root / str(event.pk) / "live.m3u8"
            wait_for(lambda: live.exists() and "X-SPEAKING=\"Zo" in live.read_text(), 30, "Zoë's card")

            with chromium() as browser:
                page = browser.new_page()
                page.goto(base + registration.get_join_url())
                wait_for_script(page, "window.Hls && Hls.isSupported()", timeout=10_000)
                page.evaluate(READ_DATE_RANGES, f"/hls/{event.pk}/live.m3u8")
                named = f"window.cards.some((card) => card.speaking === {json.dumps(NAME)}) && window.cards"
                cards = wait_for_script(page, named, timeout=30_000)
    named = [card for card in cards if card["speaking"] == NAME]
    assert named[0]["class"] == "net.webcast.stage" and named[0]["valid"] and named[0]["endOnNext"]
    assert (named[0]["phase"], named[0]["hold"], named[0]["segment"]) == ("live", "NO", "")
    written = {d.attributes["ID"]: d for d in parse(live.read_text()).date_ranges}
    assert datetime.fromisoformat(named[0]["start"]) == written[named[0]["id"]].start
