"""Two producers run a show from two console tabs in real Chromium; every move in one tab shows in
the other, the mixer's meters move, and nothing on the page jumps while it updates."""

from datetime import timedelta

import pytest
from django.test import Client

from events.harness import wait_for
from events.models import Segment
from tests.browser import chromium, wait_for_script
from tests.factories import make_event, make_producer, make_tone_presenter
from tests.live import running_server

pytestmark = [pytest.mark.live, pytest.mark.browser, pytest.mark.both_modes, pytest.mark.timeout(120)]

LAPTOP = {"width": 1366, "height": 768}
STEADY = ["#take", "#show-clock", "#segment-clock", "#phase", "#rundown", "#presenters", "#audit"]


def session_key(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


def signed_in(browser, base: str, session: str):
    context = browser.new_context(viewport=LAPTOP)
    context.add_cookies([{"name": "sessionid", "value": session, "url": base}])
    return context


def boxes(page) -> dict:
    return {selector: page.locator(selector).bounding_box() for selector in STEADY}


def titles(page) -> list[str]:
    return page.locator("#rundown .segment-title").all_inner_texts()


@pytest.mark.django_db(transaction=True)
def test_two_console_tabs_stay_in_sync(tmp_path, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    event = make_event("browser-show", title="Browser show")
    ada = make_tone_presenter(event, "Ada", 440, position=1)
    bea = make_tone_presenter(event, "Bea", 660, position=2)
    cem = make_tone_presenter(event, "Cem", 880, position=3)
    for position, (title, people) in enumerate([("Welcome", [ada]), ("Panel", [bea, cem]), ("Demo", [cem])]):
        segment = Segment.objects.create(
            event=event, title=title, position=position, planned_duration=timedelta(minutes=5)
        )
        segment.presenters.add(*people)
    sessions = [session_key(make_producer(event, name)) for name in ("alice", "bob")]
    hls_root = tmp_path / "hls"
    hls_root.mkdir()

    with running_server(HLS_ROOT=str(hls_root)) as base, chromium() as browser:
        errors = []
        pages = []
        for session in sessions:
            page = signed_in(browser, base, session).new_page()
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(f"{base}/console/{event.pk}/")
            page.wait_for_selector("#connection[data-state=connected]")
            wait_for_script(page, "document.querySelectorAll('#rundown .segment').length === 3")
            pages.append(page)
        a, b = pages
        steady = boxes(b)
        assert titles(b) == ["Welcome", "Panel", "Demo"]

        # A drags Demo above Welcome; B sees the new order.
        a.locator(".segment", has_text="Demo").drag_to(
            a.locator(".segment", has_text="Welcome"), target_position={"x": 40, "y": 4}
        )
        wait_for_script(b, "document.querySelector('#rundown .segment-title').textContent === 'Demo'")
        assert titles(b) == ["Demo", "Welcome", "Panel"]

        # A presses N: Demo goes on standby with Cem in preview, on both screens.
        a.keyboard.press("n")
        b.wait_for_selector(".segment[data-status=standby]:has-text('Demo')")
        assert b.locator("#preview-names").inner_text() == "Cem"
        assert b.locator(".card[data-tally=preview] .name").all_inner_texts() == ["Cem"]

        # B goes live through the confirmation dialog; A sees LIVE.
        b.click("#go-live")
        b.click("#confirm-ok")
        a.wait_for_selector("#phase[data-phase=live]")
        assert a.locator("#phase").inner_text() == "LIVE"

        # B takes; A sees Cem on air and the segment countdown running.
        b.click("#take")
        a.wait_for_selector(".card[data-tally=program]:has-text('Cem')")
        assert a.locator("#program-names").inner_text() == "Cem"
        assert a.locator("#program-segment").inner_text() == "Demo"
        wait_for_script(a, "document.getElementById('segment-label').textContent === 'remaining'")
        assert a.locator("#segment-clock").inner_text() in ("05:00", "04:59", "04:58")

        # A puts Ada on air with Shift+1; B's Ada card shows it.
        a.keyboard.press("Shift+Digit1")
        b.wait_for_selector(".card[data-tally=program]:has-text('Ada') .on-air[aria-pressed=true]")

        # B cues Ada to wrap up; A sees the cue outstanding; B writes to Ada; A reads it.
        b.locator(".card", has_text="Ada").locator("[data-cue=wrap_up]").click()
        a.wait_for_selector(".card:has-text('Ada') .cue-state.waiting")
        assert a.locator(".card", has_text="Ada").locator(".cue-state").inner_text() == "wrap up …"
        b.fill("#chat-text", "Thirty seconds, please")
        b.press("#chat-text", "Enter")
        a.wait_for_selector("#chat-log li:has-text('bob: Thirty seconds, please')")
        assert (
            a.locator("#audit li")
            .first.inner_text()
            .endswith('bob message presenter=Ada text="Thirty seconds, please"')
        )

        # The mixer's meters drive the on-air line's meter in both tabs.
        for page in (a, b):
            wait_for_script(
                page, "(t => t.startsWith('scaleX(') && t !== 'scaleX(1)')"
                "(document.querySelector('.card[data-tally=program] .rms').style.transform)",
                timeout=20_000,
            )

        # A ends the show; B sees it, and nothing moved on B's screen all along.
        a.click("#end-show")
        a.click("#confirm-ok")
        b.wait_for_selector("#phase[data-phase=ended]")
        assert boxes(b) == steady
        assert errors == []
        # The show's end reaches the mixer, which writes the replay (and lets go of the database)
        # before the server stops.
        wait_for((hls_root / str(event.pk) / "chapters.json").exists, 20, "the replay's chapters")
