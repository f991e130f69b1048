"""A source the operator's policy refuses, end to end in real Chromium: given on the console it is
refused in the line's form and changes nothing; one that reaches the mixer anyway (saved before
the policy was set) is refused when the mixer opens it, and the line's card says why. Nothing is
sent to the refused address: the mixer refuses before FFmpeg opens anything."""

import pytest

from events.harness import wait_for
from events.models import Presenter
from tests.browser import chromium
from tests.factories import make_event, make_producer, make_tone_presenter
from tests.live import running_server
from tests.stage.test_console_browser import session_key, signed_in

pytestmark = [pytest.mark.live, pytest.mark.browser, pytest.mark.both_modes, pytest.mark.timeout(120)]

METADATA = "http://169.254.169.254/latest/meta-data/"


@pytest.mark.django_db(transaction=True)
def test_a_refused_source_is_explained_on_the_line_card(tmp_path, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    event = make_event("policy-show", title="Policy show")
    make_tone_presenter(event, "Ada", 440, position=1)
    # Saved without the admin's check, as a row from before the policy would be.
    Presenter.objects.create(event=event, name="Eve", position=2, line_source=METADATA)
    session = session_key(make_producer(event, "alice"))
    hls_root = tmp_path / "hls"
    hls_root.mkdir()

    with running_server(HLS_ROOT=str(hls_root)) as base, chromium() as browser:
        errors = []
        page = signed_in(browser, base, session).new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(f"{base}/console/{event.pk}/")
        page.wait_for_selector("#connection[data-state=connected]")
        card_ada = page.locator(".card:has(.name:text-is('Ada'))")
        card_eve = page.locator(".card:has(.name:text-is('Eve'))")

        # Given on the console: refused in the line's form, the tone stays.
        source = card_ada.locator(".source")
        source.locator("summary").click()
        source.locator("input[name=url]").fill("http://[::ffff:169.254.169.254]/latest/meta-data/")
        source.locator("button[type=submit]").click()
        error = source.locator(".source-error")
        error.wait_for()
        assert error.inner_text() == (
            "::ffff:a9fe:a9fe (169.254.169.254) is a link-local address: lines may not reach it on this server."
        )
        assert source.locator("summary").inner_text().split() == ["TONE", "sine=frequency=440:sample_rate=48000"]

        # Live: the mixer opens the lines, plays Ada's tone and refuses Eve's source, saying why.
        page.click("#go-live")
        page.click("#confirm-ok")
        page.wait_for_selector("#phase[data-phase=live]")
        fault = card_eve.locator(".line-fault")
        refused = "Source refused: 169.254.169.254 is a link-local address: lines may not reach it on this server."

        # The card follows two feeds (the mixer's reports and the stage's deltas): wait until both
        # have said it, rather than reading the card at one instant between them.
        def explained() -> bool:
            health = card_eve.locator(".health").inner_text()
            return fault.is_visible() and fault.inner_text() == refused and health == "faulted"

        wait_for(explained, 30, "the refusal on Eve's card")
        page.wait_for_selector(".card:has(.name:text-is('Ada')) .health[data-health=ok]", timeout=30_000)
        assert card_ada.locator(".line-fault").is_hidden()

        # A console opened later reads the reason from the stage state.
        late = signed_in(browser, base, session).new_page()
        late.goto(f"{base}/console/{event.pk}/")
        late_fault = late.locator(".card:has(.name:text-is('Eve')) .line-fault")
        late_fault.wait_for()
        assert late_fault.inner_text() == fault.inner_text()
        assert errors == []
