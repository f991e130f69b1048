"""A presenter's green room in real Chromium: they check in, test the microphone, say they are ready
and raise a status, and the console sees each; the producer's cues are shown and acknowledged with
one click; the ON AIR tally follows the stage (standby, take, mute); the private chat runs both
ways and an audience question pushed to them stands out; a dropped connection shows until the page
is back by itself. A wrong key gets the 404 page."""

import re
import time
from contextlib import ExitStack
from datetime import timedelta

import pytest

from events.models import Presenter, Segment
from stage import store
from tests.browser import chromium, wait_for_script
from tests.factories import make_event, make_producer, make_tone_presenter
from tests.live import running_server
from tests.stage.test_console_browser import session_key
from tests.stage.test_console_presenters_browser import stage_socket

pytestmark = [pytest.mark.live, pytest.mark.browser, pytest.mark.both_modes, pytest.mark.timeout(120)]

FAKE_MICROPHONE = ("--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream")


def ask_as_viewer(event_id: int, text: str, name: str) -> None:
    """A viewer's question, applied straight to the store (no viewer socket exists)."""
    version = store.snapshot(event_id)["version"]
    command = {"type": "ask_question", "version": version, "client_id": f"viewer-{time.monotonic_ns()}"}
    outcome = store.submit(event_id, command | {"text": text, "name": name}, actor="viewer:kim", role="viewer")
    assert outcome.applied


@pytest.mark.django_db(transaction=True)
def test_a_presenter_checks_in_follows_cues_and_sees_the_tally(tmp_path):
    event = make_event("greenroom-browser", title="Green room show")
    bea = make_tone_presenter(event, "Bea", 660, position=1)
    ada = Presenter.objects.create(event=event, name="Ada", position=2)  # speaks from the browser
    for position, (title, people) in enumerate([("Welcome", [bea]), ("Keynote", [ada])]):
        segment = Segment.objects.create(
            event=event, title=title, position=position, planned_duration=timedelta(minutes=5)
        )
        segment.presenters.add(*people)
    session = session_key(make_producer(event, "alice"))
    hls_root = tmp_path / "hls"
    hls_root.mkdir()
    me = ada.line_id

    server = running_server(HLS_ROOT=str(hls_root), MIXER_AUTOSTART="false")
    with server as base, chromium(*FAKE_MICROPHONE) as browser, ExitStack() as sockets:
        page = browser.new_page(viewport={"width": 1366, "height": 900})
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))

        # A wrong key: the invalid-link page, and nothing of the room.
        response = page.goto(f"{base}/greenroom/{ada.pk}/{'x' * 43}/")
        assert response.status == 404
        assert page.locator("h1").inner_text() == "This link is not valid"

        # The stage socket passes through the test, which can drop it and hold the page's
        # reconnections (open, unanswered) until the test has seen the page say it is offline.
        stage_sockets = []
        reconnections = {"hold": False, "held": []}

        def pass_through(route):
            if reconnections["hold"]:
                reconnections["held"].append(route)
                return
            route.connect_to_server()
            stage_sockets.append(route)

        page.route_web_socket(re.compile(r"/greenroom/\d+/[^/]+/$"), pass_through)
        response = page.goto(f"{base}/greenroom/{ada.pk}/{ada.access_key}/")
        assert (response.status, response.headers["cache-control"]) == (200, "private, no-store")
        page.wait_for_selector("#connection[data-state=connected]")
        producer = stage_socket(sockets, base, f"/ws/events/{event.pk}/console/", session)
        producer.until(lambda s: s["presenters"][me]["connected"], 10, "Ada connected")

        # The connection drops: "reconnecting" stands out until the page is back by itself.
        reconnections["hold"] = True
        stage_sockets[-1].close(code=1011)
        page.wait_for_selector("#offline:not([hidden])")
        assert page.locator("#connection").inner_text() == "Reconnecting…"
        reconnections["hold"] = False  # the next one passes; any that waited is dropped again
        for route in reconnections["held"]:
            route.close(code=1011)
        page.wait_for_selector("#connection[data-state=connected]")
        assert page.locator("#offline").is_hidden()
        assert len(stage_sockets) == 2

        # Where she is: her segment highlighted in the run-of-show, the countdown to it, off air.
        wait_for_script(page, "document.querySelectorAll('#rundown .segment').length === 2")
        assert page.locator("#rundown .segment.mine .segment-title").all_inner_texts() == ["Keynote (you)"]
        assert page.locator("#clock-label").inner_text() == "YOUR SEGMENT STARTS IN"
        assert page.locator("#tally").get_attribute("data-tally") == "off"
        assert page.locator("#tally-label").inner_text() == "OFF AIR"

        # The microphone test: allowed, a device to choose, the meter hears the fake microphone.
        page.click("#mic-allow")
        page.wait_for_selector("#mic-controls:not([hidden])")
        assert page.locator("#mic-device option").count() >= 1
        assert page.locator("#mic-record").is_visible()
        wait_for_script(page, "window.greenroom.micTested()", timeout=10_000)
        assert page.locator("#step-mic").get_attribute("data-done") == "true"

        # Check in, ready, a status: the console sees each, the page shows each step done.
        page.click("#check-in")
        producer.until(lambda s: s["presenters"][me]["checked_in"], 10, "checked in")
        page.wait_for_selector("#step-check-in[data-done=true]")
        page.click("#ready")
        producer.until(lambda s: s["presenters"][me]["ready"], 10, "ready")
        page.wait_for_selector("#step-ready[data-done=true]")
        assert page.locator(".status-buttons [aria-pressed=true]").all_inner_texts() == ["✓ Ready"]
        page.click(".status-buttons [data-status=audio_problem]")
        producer.until(lambda s: s["presenters"][me]["status"] == "audio_problem", 10, "audio problem")
        page.wait_for_selector(".status-buttons [data-status=audio_problem][aria-pressed=true]")

        # The show goes live; her segment on standby: a standby cue, "you're next", standing by.
        assert producer.command("go_live")["type"] == "ack"
        keynote = producer.state["rundown"][1]
        assert producer.command("standby", segment=keynote)["type"] == "ack"
        page.wait_for_selector("#cue[data-kind=standby][data-acked=false]")
        assert page.locator("#cue-kind").inner_text() == "STAND BY"
        assert page.locator("#cue-text").inner_text() == "Get ready: “Keynote” is next."
        assert page.locator("#clock-label").inner_text() == "YOU'RE NEXT"
        assert page.locator("#tally-label").inner_text() == "STANDING BY"

        # One click acknowledges the cue; the console's state has it and the banner calms down.
        (cue_id,) = producer.state["cues"]
        page.click("#cue-ack")
        producer.until(lambda s: me in s["cues"][cue_id]["acks"], 10, "the acknowledgement")
        page.wait_for_selector("#cue[data-acked=true]")
        assert page.locator("#cue-ack").is_hidden()

        # Take: on air, her segment's time running; muted: the tally goes off; unmuted: on again.
        assert producer.command("take")["type"] == "ack"
        page.wait_for_selector("#tally[data-tally=program]")
        assert page.locator("#tally-label").inner_text() == "ON AIR"
        assert page.locator("#clock-label").inner_text() == "TIME LEFT IN YOUR SEGMENT"
        assert page.locator("#clock-value").inner_text() in ("05:00", "04:59", "04:58")
        assert producer.command("set_mute", line=me, muted=True)["type"] == "ack"
        page.wait_for_selector("#tally[data-tally=muted]")
        assert page.locator("#tally-label").inner_text() == "OFF AIR · muted"
        assert producer.command("set_mute", line=me, muted=False)["type"] == "ack"
        page.wait_for_selector("#tally[data-tally=program]")

        # A wrap-up cue with its seconds counting down, acknowledged in one click.
        assert producer.command("cue", to=me, kind="wrap_up", seconds=30)["type"] == "ack"
        page.wait_for_selector("#cue[data-kind=wrap_up][data-acked=false]")
        assert page.locator("#cue-kind").inner_text() == "WRAP UP"
        assert page.locator("#cue-countdown").inner_text() in ("00:30", "00:29", "00:28")
        wrap_up = max(producer.state["cues"], key=lambda cid: int(cid[1:]))
        page.click("#cue-ack")
        producer.until(lambda s: me in s["cues"][wrap_up]["acks"], 10, "the wrap-up acknowledgement")

        # The chat, both ways.
        assert producer.command("message", presenter=me, text="You sound great")["type"] == "ack"
        page.wait_for_selector("#chat-log .from-producer:has-text('You sound great')")
        page.fill("#chat-text", "Thanks! Audio is fine now")
        page.press("#chat-text", "Enter")
        state = producer.until(
            lambda s: any(m["text"] == "Thanks! Audio is fine now" for m in s["messages"].values()), 10, "her message"
        )
        (line,) = [m for m in state["messages"].values() if m["text"] == "Thanks! Audio is fine now"]
        assert (line["presenter"], line["from"]) == (me, "presenter")
        page.wait_for_selector("#chat-log .from-presenter:has-text('Thanks! Audio is fine now')")

        # A viewer asks; the producer pushes the question to her: highlighted in her chat.
        ask_as_viewer(event.pk, "What comes after the launch?", "Kim")
        producer.socket.send('{"type": "snapshot"}')
        producer.receive("snapshot")
        (question_id,) = producer.state["questions"]
        assert producer.command("send_question", question=question_id, presenter=me)["type"] == "ack"
        question = page.locator("#chat-log .question")
        question.wait_for()
        assert question.locator(".chat-text").inner_text() == "What comes after the launch? (Kim)"
        assert question.locator(".chat-meta").inner_text().startswith("AUDIENCE QUESTION")
        assert page.locator("#chat-log li").count() == 3

        assert errors == []
