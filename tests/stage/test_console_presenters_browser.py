"""What the producers' console shows of presenters, in real Chromium: green-room steps and the
back-channel as a presenter reports them over their own socket, cues left unacknowledged past the
ack time, a line's source changed (and refused) from the card, and a question pushed to a presenter."""

import json
import re
import time
from contextlib import ExitStack

import pytest
from websockets.sync.client import connect as ws_connect

from tests.browser import chromium
from tests.factories import make_event, make_producer, make_tone_presenter
from tests.live import StageClient, running_server
from tests.stage.test_console_browser import session_key, signed_in

pytestmark = [pytest.mark.live, pytest.mark.browser, pytest.mark.both_modes, pytest.mark.timeout(120)]

ACK_SECONDS = 2


def stage_socket(sockets: ExitStack, base: str, path: str, session: str | None = None) -> StageClient:
    headers = {"Origin": base} | ({"Cookie": f"sessionid={session}"} if session else {})
    url = f"ws://{base.removeprefix('http://')}{path}"
    return StageClient(sockets.enter_context(ws_connect(url, additional_headers=headers)))


@pytest.mark.django_db(transaction=True)
def test_the_console_follows_presenters_and_flags_what_needs_the_producer(tmp_path, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    event = make_event("presenters-show", title="Presenters show")
    ada = make_tone_presenter(event, "Ada", 440, position=1)
    bea = make_tone_presenter(event, "Bea", 660, position=2)
    session = session_key(make_producer(event, "alice"))
    hls_root = tmp_path / "hls"
    hls_root.mkdir()

    server = running_server(HLS_ROOT=str(hls_root), STAGE_CUE_ACK_SECONDS=str(ACK_SECONDS))
    with server as base, chromium() as browser, ExitStack() as sockets:
        errors = []
        page = signed_in(browser, base, session).new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        # The console's socket passes through the test, which can add the mixer's reports to it.
        consoles = []

        def pass_through(route):
            route.connect_to_server()
            consoles.append(route)

        page.route_web_socket(re.compile(r"/ws/events/\d+/console/$"), pass_through)
        page.goto(f"{base}/console/{event.pk}/")
        page.wait_for_selector("#connection[data-state=connected]")
        card_ada = page.locator(".card:has(.name:text-is('Ada'))")
        card_bea = page.locator(".card:has(.name:text-is('Bea'))")
        assert card_ada.locator(".step.on").count() == 0
        assert card_ada.locator(".backchannel").is_hidden()

        producer = stage_socket(sockets, base, f"/ws/events/{event.pk}/console/", session)

        # Ada opens her green room, checks in and marks ready: each step lights on the console.
        presenter = stage_socket(sockets, base, f"/ws/events/{event.pk}/greenroom/{ada.pk}/{ada.access_key}/")
        page.wait_for_selector(".card:has(.name:text-is('Ada')) .step.connected.on")
        assert card_ada.locator(".step.on").all_inner_texts() == ["connected"]
        assert presenter.command("set_check_in", presenter=ada.line_id, checked_in=True)["type"] == "ack"
        page.wait_for_selector(".card:has(.name:text-is('Ada')) .step.checked-in.on")
        assert presenter.command("set_ready", presenter=ada.line_id, ready=True)["type"] == "ack"
        page.wait_for_selector(".card:has(.name:text-is('Ada')) .step.ready.on")
        assert card_ada.locator(".step.on").all_inner_texts() == ["connected", "checked in", "ready"]
        assert card_bea.locator(".step.on").count() == 0

        # She raises an audio problem: a red badge beside her meter, until the producer clears it.
        assert presenter.command("set_status", presenter=ada.line_id, status="audio_problem")["type"] == "ack"
        badge = card_ada.locator(".alerts .backchannel[data-status=audio_problem]")
        badge.wait_for()
        assert badge.inner_text() == "AUDIO PROBLEM ✕"
        assert badge.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(211, 47, 47)"
        badge.click()
        card_ada.locator(".backchannel").wait_for(state="hidden")
        assert presenter.until(lambda s: s["presenters"][ada.line_id]["status"] == "ok", 10, "status cleared")

        # The mixer's reports: health as the producer reads it, and the gaps of a contribution.
        reading = {"peak_db": -6.0, "rms_db": -14.0, "health": "ok", "gaps": 3}
        report = {"type": "meters", "lines": {ada.line_id: reading}}
        consoles[-1].send(json.dumps(report))
        gaps = card_ada.locator(".gaps")
        gaps.wait_for()
        assert (card_ada.locator(".health").inner_text(), gaps.inner_text()) == ("receiving", "3 gaps")
        assert card_bea.locator(".gaps").is_hidden()
        consoles[-1].send(json.dumps({"type": "line_health", "line": ada.line_id, "health": "faulted"}))
        page.wait_for_selector(".card:has(.name:text-is('Ada')) .health[data-health=faulted]")
        assert card_ada.locator(".health").inner_text() == "faulted"
        assert card_ada.locator(".line-fault").is_hidden()
        # A line whose source the mixer refused says why, on its card, until it plays.
        reason = "encoder.example resolves to 10.0.0.7, a private address: lines may not reach it on this server."
        report = {"type": "line_health", "line": ada.line_id, "health": "faulted", "fault": reason}
        consoles[-1].send(json.dumps(report))
        fault = card_ada.locator(".line-fault")
        fault.wait_for()
        assert fault.inner_text() == f"Source refused: {reason}"
        consoles[-1].send(json.dumps({"type": "line_health", "line": ada.line_id, "health": "ok"}))
        fault.wait_for(state="hidden")
        assert card_ada.locator(".health").inner_text() == "receiving"

        # A cue to all: waiting at first, flagged for whoever has not acknowledged it after the ack time.
        sent = time.monotonic()
        page.click("[data-cue-all=standby]")
        page.wait_for_selector(".card:has(.name:text-is('Ada')) .cue-state.waiting")
        assert card_ada.locator(".cue-state").inner_text() == "standby …"
        state = presenter.until(lambda s: s["cues"], 10, "the cue")
        (cue_id,) = state["cues"]
        page.wait_for_selector(".card:has(.name:text-is('Ada')) .cue-state.late", timeout=10_000)
        assert time.monotonic() - sent >= ACK_SECONDS - 0.5
        assert re.fullmatch(r"no ack \d+ s", card_ada.locator(".cue-state").inner_text())
        assert re.fullmatch(r"no ack \d+ s", card_bea.locator(".cue-state").inner_text())
        assert card_ada.locator(".cue-state").get_attribute("title").startswith("Cue “standby” not acknowledged for ")
        assert "No acknowledgement from" in page.locator("#notice").inner_text()
        assert presenter.command("ack_cue", cue=cue_id, presenter=ada.line_id)["type"] == "ack"
        page.wait_for_selector(".card:has(.name:text-is('Ada')) .cue-state.on")
        assert card_ada.locator(".cue-state").inner_text() == "standby ✓"
        assert "cue-late" not in card_ada.get_attribute("class")
        assert "cue-late" in card_bea.get_attribute("class")

        # Bea's line: a test tone becomes an encoder URL from the card's form...
        source = card_bea.locator(".source")
        assert source.locator("summary").inner_text().split() == ["TONE", "sine=frequency=660:sample_rate=48000"]
        source.locator("summary").click()
        source.locator("input[name=url]").fill("srt://enc.example:9000")
        source.locator("select[name=format]").select_option("mpegts")
        source.locator("button[type=submit]").click()
        lines = producer.until(lambda s: s["lines"][bea.line_id]["format"] != "lavfi", 10, "the new source")["lines"]
        assert (lines[bea.line_id]["source"], lines[bea.line_id]["format"]) == ("srt://enc.example:9000", "mpegts")
        page.wait_for_selector(".card:has(.name:text-is('Bea')) .source:not([open])")
        assert source.locator("summary").inner_text().split() == ["URL", "srt://enc.example:9000", "(mpegts)"]

        # ...a URL that would read a file is refused, with the reason in the form...
        source.locator("summary").click()
        assert source.locator("input[name=url]").input_value() == "srt://enc.example:9000"
        source.locator("input[name=url]").fill("concat:/etc/passwd")
        source.locator("select[name=format]").select_option("")
        source.locator("button[type=submit]").click()
        error = source.locator(".source-error")
        error.wait_for()
        assert error.inner_text() == "Unsupported source 'concat': use http, https, rtmp, rtmps, rtp, srt, udp."
        assert source.get_attribute("open") is not None
        assert source.locator("input[name=url]").input_value() == "concat:/etc/passwd"
        assert producer.state["lines"][bea.line_id]["source"] == "srt://enc.example:9000"

        # ...and the browser microphone takes the line back.
        source.locator(".use-browser").click()
        # Deltas come in order: had the refused URL been applied, it would show before this one.
        lines = producer.until(lambda s: s["lines"][bea.line_id]["source"] != "srt://enc.example:9000", 10, "a change")
        assert lines["lines"][bea.line_id]["source"] is None
        page.wait_for_selector(".card:has(.name:text-is('Bea')) .source:not([open])")
        assert source.locator("summary").inner_text().split() == ["MIC", "browser", "microphone"]
        assert lines["lines"][bea.line_id]["format"] is None

        # An audience question, approved, pushed into Ada's chat from its card in the Q&A list.
        assert producer.command("ask_question", text="How low is the latency?", name="Kim")["type"] == "ack"
        question = page.locator("#questions li", has_text="How low is the latency?")
        question.wait_for()
        assert question.locator(".send-question").is_hidden()
        question.locator("button[data-status=approved]").click()
        choice = question.locator(".send-question")
        choice.wait_for()
        assert choice.locator("option").all_inner_texts() == ["Send to presenter…", "Ada", "Bea"]
        choice.select_option(label="Ada")
        state = producer.until(lambda s: any(m.get("question") for m in s["messages"].values()), 10, "the question")
        (message,) = [m for m in state["messages"].values() if m.get("question")]
        assert (message["presenter"], message["text"], message["from"]) == (
            ada.line_id, "How low is the latency? (Kim)", "producer"
        )
        question.locator(".question-sent", has_text="→ Ada").wait_for()
        assert choice.input_value() == ""
        assert errors == []
