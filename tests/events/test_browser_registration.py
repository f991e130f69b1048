"""A registrant in real Chromium: the event page in their time, the form with the organiser's
questions, the personal link from the email, the webcast page that remembers them and beats."""

import time

import pytest

from events import attendance
from events.harness import wait_for
from events.models import Attendance, FieldMode, Question
from tests.browser import chromium
from tests.conftest import scaled_out
from tests.events.helpers import make_event, question
from tests.live import join_link, newest_mail, running_server

pytestmark = [pytest.mark.live, pytest.mark.browser, pytest.mark.timeout(120)]




@pytest.mark.django_db(transaction=True)
def test_registering_in_chromium_and_opening_the_link_from_the_email(tmp_path):
    event = make_event("launch", title="Product launch", time_zone="Asia/Tokyo",
                       organisation_field=FieldMode.OPTIONAL)
    track = question(event, "Track", Question.Kind.SINGLE_CHOICE, required=True, choices=("Product", "Engineering"))
    consent = question(event, "I agree to the terms", Question.Kind.CONSENT, required=True, position=1)
    mail_dir, hls_root = tmp_path / "mail", tmp_path / "hls"
    mail_dir.mkdir()
    hls_root.mkdir()

    server = running_server(HLS_ROOT=str(hls_root), EMAIL_URL=f"filemail:///{mail_dir}", SITE_URL="http://placeholder")
    with server as base, chromium() as browser:
        page = browser.new_page(timezone_id="Europe/Paris", locale="en-GB")
        outside = []
        page.on("request", lambda request: request.url.startswith(base) or outside.append(request.url))
        page.goto(base + "/e/launch/")
        visitor_time = page.locator(".when .visitor-time")
        visitor_time.wait_for(state="visible")
        assert "Your time (Europe/Paris)" in visitor_time.inner_text()
        assert "(Asia/Tokyo)" in page.locator(".when time").inner_text()

        # A missing answer is refused with a clear message, and the typed fields are kept.
        page.fill("#id_name", "Rita Registrant")
        page.fill("#id_email", "Rita@Example.com")
        page.click("button[type=submit]")
        assert page.locator(f"#id_{track.field_name}_1").is_visible()
        assert page.locator(".field.invalid .error").all_inner_texts() == [
            "This field is required.", "Please tick this box to register."
        ]
        assert page.input_value("#id_email") == "Rita@Example.com"

        page.check(f"#id_{track.field_name}_1")
        page.check(f"#id_{consent.field_name}")
        page.click("button[type=submit]")
        page.wait_for_url("**/e/launch/registered/*")  # (the form's #register anchor rides along)
        assert "sent your personal link" in page.content()

        mail = wait_for(lambda: newest_mail(mail_dir), 15, "the confirmation email")
        assert "Subject: You're registered: Product launch" in mail
        assert "Content-Type: text/html" in mail and "Content-Type: text/calendar" in mail
        link = join_link(mail).removeprefix("http://placeholder")

        beats = []
        page.on("request", lambda request: request.url.endswith("/presence/") and beats.append(request))
        page.goto(base + link)
        assert page.url == base + "/e/launch/watch/"
        wait_for(lambda: beats, 10, "a presence heartbeat")
        page.reload()  # the session remembers the link
        assert page.url == base + "/e/launch/watch/"
        assert page.locator("#program").count() == 1
        assert outside == []

    # (The database is read only now: ORM calls under Playwright's event loop would open a
    # connection of their own that outlives the test.)
    registration = event.registrations.get()
    assert registration.answers == {str(track.pk): "Engineering", str(consent.pk): True}
    if scaled_out():  # the server logged the beats in Redis; flush them as the periodic task would
        attendance.flush(now=time.time() + 2 * attendance.BUCKET_SECONDS)
        assert Attendance.objects.get().registration_id == registration.pk

