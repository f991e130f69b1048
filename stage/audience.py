"""The viewers' side of Q&A and polls, over plain HTTP: no socket per viewer.

A viewer (a join session, events/views/viewer.py) asks through the stage's command path, so a
question answered 201 is in the committed state; upvotes and poll answers are rows, one per
registration (stage.models), recounted into the state by stage/tally.py. Everyone reads the
cacheable `audience.json`; each viewer reads their own `mine.json`. Errors are JSON:
{"error": {"code", "field", "message"}}, and change nothing.
"""

import json

from django.db import IntegrityError
from django.http import HttpRequest, JsonResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.http import require_GET, require_POST

from events import ratelimit
from events.models import Event, Registration
from events.views.viewer import session_registration
from stage import tally
from stage.broadcast import submit_and_broadcast
from stage.contract.commands import VIEWER, viewer_actor
from stage.contract.fields import named
from stage.models import PollVote, QuestionVote, StageLogEntry, StageState
from stage.polls import OPEN
from stage.projections import PUBLIC_QUESTIONS, asked_by, audience_view

MAX_BODY_BYTES = 4096
# A viewer may name each question (`client_id`, a UUID say) so that sending it again after a lost
# answer is the same question, not a second one. Stage client ids are per event: a viewer's is
# kept apart from everyone else's by their registration.
MAX_VIEWER_CLIENT_ID = 40
# Refusals by the state (not by the command's form): the request was fine, the show says no.
_STATE_REFUSALS = {"show_ended", "too_many_questions"}


class Refused(Exception):
    def __init__(self, status: int, code: str, message: str, field: str | None = None, retry_after: int = 0):
        super().__init__(message)
        self.status, self.code, self.message, self.field, self.retry_after = status, code, message, field, retry_after

    def response(self) -> JsonResponse:
        response = error(self.status, self.code, self.message, self.field)
        if self.retry_after:
            response["Retry-After"] = str(self.retry_after)
        return response


def error(status: int, code: str, message: str, field: str | None = None) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "field": field, "message": message}}, status=status)


def _viewer(request: HttpRequest, slug: str) -> tuple[Event, Registration]:
    event = get_object_or_404(Event, slug=slug)
    registration = session_registration(request, event)
    if registration is None:
        raise Refused(403, "no_session", "Open the webcast with your personal join link first.")
    return event, registration


def _body(request: HttpRequest, fields: set[str]) -> dict:
    """The request's JSON object, holding only `fields`."""
    if len(request.body) > MAX_BODY_BYTES:
        raise Refused(413, "too_large", f"Send at most {MAX_BODY_BYTES} bytes.")
    try:
        body = json.loads(request.body)
    except ValueError:
        raise Refused(400, "malformed", "Send a JSON object.") from None
    if not isinstance(body, dict):
        raise Refused(400, "malformed", "Send a JSON object.")
    for name in body:
        if name not in fields:
            raise Refused(400, "unknown_field", f"Unknown field {name!r}.", named(name))
    return body


def _limit(limit: ratelimit.Limit, registration: Registration) -> None:
    verdict = ratelimit.hit(limit, str(registration.pk))
    if not verdict.allowed:
        raise Refused(429, "too_fast", "Too many at once: try again in a moment.", retry_after=verdict.retry_after)


def _document(event: Event) -> dict:
    return StageState.objects.filter(event=event).values_list("document", flat=True).first() or {}


def _ask(request: HttpRequest, slug: str) -> tuple[int, dict, int]:
    event, registration = _viewer(request, slug)
    command = {"type": "ask_question"} | _body(request, {"text", "name", "client_id"})
    if "client_id" in command:
        client_id = command["client_id"]
        if not isinstance(client_id, str) or not 1 <= len(client_id) <= MAX_VIEWER_CLIENT_ID:
            raise Refused(400, "out_of_range", f"client_id is 1 to {MAX_VIEWER_CLIENT_ID} characters.", "client_id")
        command["client_id"] = f"r{registration.pk}:{client_id}"
    _limit(ratelimit.QUESTIONS, registration)
    return event.pk, command, registration.pk


def _asked_before(event_id: int, client_id: str, registration_pk: int) -> dict:
    """The question a retried ask made the first time: the viewer's, asked when that command applied."""
    applied_at = StageLogEntry.objects.get(event_id=event_id, client_id=client_id).applied_at
    questions = StageState.objects.get(event_id=event_id).document["questions"]
    return next(
        {"id": qid, "status": q["status"]}
        for qid, q in questions.items()
        if q.get("asker") == registration_pk and q["asked_at"] == applied_at
    )


@require_POST
def ask(request: HttpRequest, slug: str) -> JsonResponse:
    """A viewer's question: 201 once it is in the stage's committed state."""
    try:
        event_id, command, registration_pk = _ask(request, slug)
    except Refused as refused:
        return refused.response()
    outcome = submit_and_broadcast(event_id, command, actor=viewer_actor(registration_pk), role=VIEWER)
    if outcome.error is not None:
        status = 409 if outcome.error["code"] in _STATE_REFUSALS else 400
        return JsonResponse({"error": outcome.error}, status=status)
    if outcome.duplicate:
        asked = _asked_before(event_id, command["client_id"], registration_pk)
        return JsonResponse(asked, status=201)
    question = next(h for h in outcome.happenings if h["type"] == "question")
    return JsonResponse({"id": question["question"], "status": question["status"]}, status=201)


def _upvote(request: HttpRequest, slug: str, question_id: str) -> int:
    event, registration = _viewer(request, slug)
    _body(request, set())  # an empty object: nothing to say but the vote itself
    question = _document(event).get("questions", {}).get(question_id)
    if question is None or question["status"] not in PUBLIC_QUESTIONS:
        raise Refused(404, "unknown_question", f"No question {question_id!r} to upvote.", "question")
    _limit(ratelimit.VOTES, registration)
    _, created = QuestionVote.objects.get_or_create(event=event, question=question_id, registration=registration)
    return event.pk if created else 0


@require_POST
def upvote(request: HttpRequest, slug: str, question_id: str) -> JsonResponse:
    """Upvote a question the audience sees, once per viewer: a second upvote answers the same."""
    try:
        event_id = _upvote(request, slug, question_id)
    except Refused as refused:
        return refused.response()
    if event_id:
        tally.votes_changed(event_id)
    return JsonResponse({"question": question_id, "voted": True})


def _answer(request: HttpRequest, slug: str, poll_id: str) -> int:
    event, registration = _viewer(request, slug)
    body = _body(request, {"option"})
    poll = _document(event).get("polls", {}).get(poll_id)
    if poll is None:
        raise Refused(404, "unknown_poll", f"No poll {poll_id!r}.", "poll")
    option = body.get("option")
    if not isinstance(option, int) or isinstance(option, bool):
        raise Refused(400, "wrong_type", "option must be the option's number (0 for the first).", "option")
    if not 0 <= option < len(poll["options"]):
        raise Refused(400, "unknown_option", f"This poll has options 0 to {len(poll['options']) - 1}.", "option")
    if poll["status"] != OPEN:
        raise Refused(409, "poll_closed", "This poll is not open for answers.", "poll")
    _limit(ratelimit.VOTES, registration)
    try:
        PollVote.objects.create(event=event, poll=poll_id, option=option, registration=registration)
    except IntegrityError:
        raise Refused(409, "already_voted", "You answered this poll already.", "poll") from None
    return event.pk


@require_POST
def answer(request: HttpRequest, slug: str, poll_id: str) -> JsonResponse:
    """A viewer's answer to the open poll: once; a second answer is refused (409)."""
    try:
        event_id = _answer(request, slug, poll_id)
    except Refused as refused:
        return refused.response()
    tally.votes_changed(event_id)
    return JsonResponse({"poll": poll_id, "voted": True}, status=201)


@require_GET
@never_cache
def mine(request: HttpRequest, slug: str) -> JsonResponse:
    """This viewer's questions (status, votes), the questions they upvoted and their poll answers."""
    try:
        event, registration = _viewer(request, slug)
    except Refused as refused:
        return refused.response()
    document = _document(event)  # read only: a viewer's GET never creates the stage
    upvoted = QuestionVote.objects.filter(event=event, registration=registration).values_list("question", flat=True)
    answers = PollVote.objects.filter(event=event, registration=registration).values_list("poll", "option")
    return JsonResponse({
        "questions": asked_by(document, registration.pk) if document else [],
        "upvoted": sorted(upvoted),
        "answers": dict(answers),
    })


@require_GET
@cache_control(public=True, max_age=2)
def audience(request: HttpRequest, slug: str) -> JsonResponse:
    """What every viewer sees of Q&A and polls; the same for all, so proxies may cache it briefly."""
    event = get_object_or_404(Event, slug=slug)
    document = _document(event)
    if not document:
        return JsonResponse({"version": 0, "questions": [], "poll": None})
    return JsonResponse(audience_view(document))
