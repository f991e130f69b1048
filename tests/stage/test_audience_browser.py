"""The audience's Q&A and a poll in real Chromium, viewers and a producer on one live server: a
viewer asks, the producer approves it in the console, a second viewer sees it and upvotes it, the
producer sees the count; a poll is prepared, opened, answered, and its results, once shown, appear
on the viewer's page."""

import pytest

from events.registration import register
from tests.browser import chromium, wait_for_script
from tests.factories import make_event, make_producer
from tests.live import running_server
from tests.stage.test_console_browser import LAPTOP, session_key, signed_in

pytestmark = [pytest.mark.live, pytest.mark.browser, pytest.mark.both_modes, pytest.mark.timeout(120)]


def viewer_page(browser, base: str, registration, errors: list):
    page = browser.new_context(viewport={"width": 390, "height": 844}).new_page()  # a phone
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.goto(base + registration.get_join_url())
    page.wait_for_selector("#ask-form")
    return page


@pytest.mark.django_db(transaction=True)
def test_a_question_and_a_poll_go_from_viewers_to_the_console_and_back(tmp_path, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    event = make_event("town-hall", title="Town hall")
    producer = session_key(make_producer(event, "pat"))
    vera = register(event, name="Vera Viewer", email="vera@example.com")
    walt = register(event, name="Walt Watcher", email="walt@example.com")
    hls_root = tmp_path / "hls"
    hls_root.mkdir()

    with running_server(HLS_ROOT=str(hls_root), MIXER_AUTOSTART="false") as base, chromium() as browser:
        errors: list[str] = []
        console = signed_in(browser, base, producer).new_page()
        console.set_viewport_size(LAPTOP)
        console.on("pageerror", lambda error: errors.append(str(error)))
        console.goto(f"{base}/console/{event.pk}/")
        console.wait_for_selector("#connection[data-state=connected]")
        first = viewer_page(browser, base, vera, errors)
        second = viewer_page(browser, base, walt, errors)

        # Walt asks first (it stays pending); then Vera asks; she sees hers waiting, the producer
        # sees it pending and approves it.
        second.fill("#ask-text", "Is there a replay?")
        second.click("#ask-form button[type=submit]")
        second.wait_for_selector("#my-questions li[data-status=pending]")
        first.fill("#ask-text", "Will the slides be shared?")
        first.fill("#ask-name", "Vera")
        first.click("#ask-form button[type=submit]")
        first.wait_for_selector("#my-questions li[data-status=pending]:has-text('Will the slides be shared?')")
        assert "waiting for the moderators" in first.inner_text("#my-questions")
        item = console.locator("#questions li", has_text="Will the slides be shared?")
        item.wait_for()
        assert item.locator(".question-votes").inner_text() == "▲ 0"
        item.locator("button[data-status=approved]").click()

        # Walt sees it in the audience's list (its next poll of audience.json) and upvotes it, once.
        upvote = second.locator("#audience-questions li", has_text="Vera: Will the slides be shared?").locator(
            "button.upvote")
        upvote.wait_for()
        upvote.click()
        wait_for_script(second, "document.querySelector('#audience-questions button.upvote')"
                                ".getAttribute('aria-pressed') === 'true'")
        assert second.is_disabled("#audience-questions button.upvote")
        assert second.inner_text("#audience-questions button.upvote") == "▲ 1"  # his own vote, counted at once
        # Vera's is the show's second record (q2), Walt's the first.
        wait_for_script(console, "document.querySelector('#questions [data-question=q2] .question-votes')"
                                 ".textContent === '▲ 1'")
        texts = "[...document.querySelectorAll('#questions .question-text')].map((e) => e.textContent)"
        assert console.evaluate(texts) == ["Is there a replay?", "Vera: Will the slides be shared?"]
        console.select_option("#questions-sort", "votes")
        assert console.evaluate(texts) == ["Vera: Will the slides be shared?", "Is there a replay?"]
        wait_for_script(first, "document.querySelector('#my-questions li').dataset.status === 'approved'",
                        timeout=40_000)

        # The producer prepares a poll and opens it; both viewers answer; the console counts live.
        console.fill("#add-poll input[name=question]", "Which city next?")
        console.fill("#add-poll textarea[name=options]", "Oslo\nLyon\nGraz")
        console.click("#add-poll button[type=submit]")
        poll = console.locator("#polls li[data-poll]", has_text="Which city next?")
        poll.wait_for()
        poll.locator("button[data-action=open]").click()
        console.wait_for_selector("#polls li[data-status=open]")
        for page, city in ((first, "Graz"), (second, "Graz")):
            page.wait_for_selector("#poll:not([hidden]) #poll-form:not([hidden])")
            assert page.inner_text("#poll-question") == "Which city next?"
            page.locator("#poll-form label", has_text=city).click()
            page.click("#poll-form button[type=submit]")
            page.wait_for_selector(f"#poll-note:has-text('You answered: {city}.')")
        wait_for_script(console, "[...document.querySelectorAll('#polls .poll-count')].map(e => e.textContent)"
                                 ".join('|') === '0 (0 %)|0 (0 %)|2 (100 %)'")
        assert first.is_hidden("#poll-results")

        # The producer shows the results: they reach the viewers' page.
        poll.locator("button[data-action=results]").click()
        wait_for_script(first, "!document.querySelector('#poll-results').hidden")
        assert first.locator("#poll-results li").all_inner_texts() == ["Oslo: 0 % (0)", "Lyon: 0 % (0)",
                                                                       "Graz: 100 % (2)"]
        assert errors == []
