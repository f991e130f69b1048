"""Stored markup in every user-supplied text (event title and description, presenter names, titles
and bios, segment titles, registrants' names and answers, chat both ways, audience questions, polls) shows
as text on every page, after the page's JavaScript has rendered it, and never runs; and script
injected into the DOM of the webcast page, the console and the green room is blocked by the
Content-Security-Policy, while those pages still work (the webcast plays, the sockets connect)."""

import time
from datetime import timedelta

import pytest
from django.test import Client

from events.models import Question, Segment
from events.registration import register
from stage import store
from tests.browser import chromium, wait_for_script
from tests.factories import make_event, make_producer, make_tone_presenter
from tests.live import running_server

# Escaping does not depend on the mode: the scaled-out pass runs it.
pytestmark = [pytest.mark.live, pytest.mark.browser, pytest.mark.timeout(240)]

IMG = '<img src=x onerror="window.__xss=1">'
SCRIPT = "<script>window.__xss=1</script>"

# Runs before the page's own scripts (DevTools injects it; no page policy applies to it).
RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation",
  (event) => window.__violations.push(`${event.violatedDirective} ${event.blockedURI}`));
"""
# What an XSS that got past the escaping would do: an inline script, and an inline event handler.
INJECT = """async () => {
  const before = window.__violations.length;
  const script = document.createElement("script");
  script.textContent = "window.__xss = 'inline script'";
  document.body.append(script);
  const holder = document.createElement("div");
  holder.innerHTML = '<img src="x" onerror="window.__xss = \\'event handler\\'">';
  document.body.append(holder);
  await new Promise((resolve) => setTimeout(resolve, 500));
  return {ran: window.__xss ?? null, violated: window.__violations.slice(before).map((v) => v.split(" ")[0])};
}"""


class Show:
    """An event whose every user-supplied text carries a payload, with its stage driven through the
    store as the console, a presenter and a viewer would."""

    def __init__(self):
        self.event = make_event("xss", title=f"Show {SCRIPT}", description=f"About {IMG}\nSecond line {SCRIPT}")
        self.ada = make_tone_presenter(self.event, f"Ada {IMG}", 440, position=1)
        self.ada.title, self.ada.bio = f"Chief {SCRIPT}", f"Bio {IMG}"
        self.ada.save()
        segment = Segment.objects.create(
            event=self.event, title=f"Opening {SCRIPT}", position=0, planned_duration=timedelta(minutes=5)
        )
        segment.presenters.add(self.ada)
        self.question = Question.objects.create(event=self.event, label=f"Why {IMG}", position=1)
        self.registration = register(
            self.event, name=f"Reg {IMG}", email="reg@example.com", answers={str(self.question.pk): f"Ans {SCRIPT}"}
        )
        self.producer = make_producer(self.event)
        self.producer.is_staff = self.producer.is_superuser = True
        self.producer.save()
        me = self.ada.line_id
        self.submit("add_segment", title=f"Added {IMG}", presenters=[me], planned_seconds=60)
        self.submit("message", presenter=me, text=f"To Ada {SCRIPT}")
        self.submit("message", presenter=me, text=f"From Ada {IMG}", role="presenter", actor=f"presenter:{me}")
        self.submit("ask_question", text=f"Question {SCRIPT}", name=f"Asker {IMG}", role="viewer", actor="viewer:v")
        (question,) = store.snapshot(self.event.pk)["questions"]
        self.submit("send_question", question=question, presenter=me)
        self.submit("set_question_status", question=question, status="approved")
        self.submit("add_poll", question=f"Poll {IMG}", options=[f"Yes {SCRIPT}", "No"])
        poll = next(iter(store.snapshot(self.event.pk)["polls"]))
        self.submit("set_poll_status", poll=poll, status="open")
        self.submit("show_poll_results", poll=poll, shown=True)
        self.submit("go_live")
        self.submit("set_on_air", line=me, on_air=True)

    def submit(self, type_: str, *, role: str = "producer", actor: str = "user:producer", **fields) -> None:
        version = store.snapshot(self.event.pk)["version"]
        command = {"type": type_, "version": version, "client_id": f"{type_}-{time.monotonic_ns()}"} | fields
        outcome = store.submit(self.event.pk, command, actor=actor, role=role)
        assert outcome.applied, outcome.error


def session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


def check_page(context, url: str, texts: list[str], ready: str = "true", timeout: float = 20_000):
    """Open `url`, wait until `ready` holds, and check nothing ran, each text shows as text and the
    page itself broke no rule of the policy."""
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(url)
    wait_for_script(page, ready, timeout=timeout)
    assert page.evaluate("window.__xss") is None, url
    shown = page.inner_text("body")
    for text in texts:
        assert text in shown, (url, text)
    assert page.evaluate("window.__violations") == [], url
    assert errors == [], url
    return page


def assert_injection_blocked(page) -> None:
    outcome = page.evaluate(INJECT)
    assert outcome["ran"] is None
    assert {"script-src-elem", "script-src-attr"} <= set(outcome["violated"])


@pytest.mark.django_db(transaction=True)
def test_stored_markup_shows_as_text_everywhere_and_injected_script_is_blocked(tmp_path, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.CELERY_TASK_ALWAYS_EAGER = True  # the registration's mail is sent here, not left on the shared broker
    show = Show()
    event, ada, registration = show.event, show.ada, show.registration
    title, presenter_texts = f"Show {SCRIPT}", [f"Ada {IMG}"]
    segments = [f"Opening {SCRIPT}", f"Added {IMG}"]
    chat = [f"To Ada {SCRIPT}", f"From Ada {IMG}"]
    question = [f"Question {SCRIPT}"]
    poll = [f"Poll {IMG}", f"Yes {SCRIPT}"]
    hls_root = tmp_path / "hls"
    hls_root.mkdir()

    with running_server(HLS_ROOT=str(hls_root)) as base, chromium() as browser:
        context = browser.new_context()
        context.add_init_script(RECORD_VIOLATIONS)
        context.add_cookies([{"name": "sessionid", "value": session_cookie(show.producer), "url": base}])

        check_page(context, f"{base}/e/{event.slug}/", [
            title, f"About {IMG}", f"Second line {SCRIPT}", *presenter_texts, f"Chief {SCRIPT}", f"Bio {IMG}",
            f"Opening {SCRIPT}", f"Why {IMG}",
        ])
        webcast = check_page(
            context, base + registration.get_join_url(), [title, f"Asker {IMG}: Question {SCRIPT}", *poll],
            ready="document.getElementById('program').currentTime > 1"
                  " && document.querySelectorAll('#audience-questions li').length === 1"
                  " && document.querySelectorAll('#poll-results li').length === 2", timeout=60_000,
        )
        assert_injection_blocked(webcast)
        console = check_page(context, f"{base}/console/{event.pk}/", [title, *presenter_texts, *segments, *chat,
                                                                       *question, f"Asker {IMG}"], ready=(
            "document.querySelector('#connection[data-state=connected]')"
            " && document.querySelectorAll('#rundown .segment').length === 2"
            " && document.querySelectorAll('#chat-log li').length >= 2"
        ))
        assert_injection_blocked(console)
        greenroom = check_page(context, base + ada.get_greenroom_url(), [title, *presenter_texts, *segments, *chat,
                                                                         *question], ready=(
            "document.querySelector('#connection[data-state=connected]')"
            " && document.querySelectorAll('#rundown .segment').length === 2"
            " && document.querySelectorAll('#chat-log li').length >= 3"
        ))
        assert_injection_blocked(greenroom)
        check_page(context, f"{base}/e/{event.slug}/report/", [f"Report: {title}", *question, *poll])
        check_page(context, f"{base}/admin/events/registration/", [f"Reg {IMG}", title])
        check_page(context, f"{base}/admin/events/registration/{registration.pk}/change/",
                   [title, f"Why {IMG}", f"Ans {SCRIPT}"])
        check_page(context, f"{base}/admin/events/presenter/", [*presenter_texts, title])
        check_page(context, f"{base}/admin/stage/stagelogentry/", [title])
