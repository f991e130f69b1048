"""Answers to requests that carry a personal key in their path (join and cancel links, green rooms,
presenters' private HLS files): wrong keys are counted per client address and, over the limit,
every key waits (the right one too, or guessing would go on); none of these answers is logged,
because Django's log line would print the path and so the key.
"""

from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import render

from events import ratelimit
from events.access import access_key_matches, unlogged


def find_by_link(request: HttpRequest, rows: QuerySet, pk: int, key: str, *, page: bool = True) -> Model | HttpResponse:
    """The row (with an `access_key`) a personal link names, or the response to answer a wrong
    or flooding link with: looked up by id, the key compared in constant time."""
    refusal = too_many_wrong_keys(request, page=page)
    if refusal is not None:
        return refusal
    row = rows.filter(pk=pk).first()
    if row is None or not access_key_matches(row.access_key, key):
        return wrong_key(request, page=page)
    return row


def too_many_wrong_keys(request: HttpRequest, *, page: bool = True) -> HttpResponse | None:
    """A 429 while this address has used up its wrong keys; None when it may try."""
    verdict = ratelimit.blocked(ratelimit.BAD_LINKS, ratelimit.client_address(request))
    if verdict.allowed:
        return None
    if page:
        response = render(request, "events/rate_limited.html", {"retry_after": verdict.retry_after}, status=429)
    else:
        response = HttpResponse("Too many attempts; try again later.", status=429, content_type="text/plain")
    response["Retry-After"] = str(verdict.retry_after)
    return unlogged(response)


def wrong_key(request: HttpRequest, *, page: bool = True) -> HttpResponse:
    """Count a wrong (or unknown) key against this address; the 404 to answer it with."""
    ratelimit.hit(ratelimit.BAD_LINKS, ratelimit.client_address(request))
    if page:
        return unlogged(render(request, "events/join_invalid.html", status=404))
    return unlogged(HttpResponse("No such file.", status=404, content_type="text/plain"))


def method_not_allowed(*allowed: str) -> HttpResponse:
    """require_GET would log the path; this 405 is not logged."""
    return unlogged(HttpResponseNotAllowed(allowed))
