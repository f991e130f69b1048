"""Sign-in pages (the console's and the admin's), throttled against password guessing.

Failed attempts count per client address and per username (ratelimit.LOGIN_FAILURES*); while
either is used up every attempt gets a 429 page, the right password too, or guessing would go on.
"""

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from events import ratelimit

MAX_USERNAME = 150  # Django's own limit; a longer one is no username


def throttled(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Wrap a sign-in view: refuse POSTs over the limits, count the ones that did not sign in."""

    @wraps(view)
    def sign_in(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.method != "POST":
            return view(request, *args, **kwargs)
        counts = _counts(request)
        for limit, who in counts:
            verdict = ratelimit.blocked(limit, who)
            if not verdict.allowed:
                return _refused(request, verdict.retry_after)
        response = view(request, *args, **kwargs)
        if response.status_code == 200:  # the form again: no sign-in (a success redirects)
            for limit, who in counts:
                ratelimit.hit(limit, who)
        return response

    return sign_in


def _counts(request: HttpRequest) -> list[tuple[ratelimit.Limit, str]]:
    counts = [(ratelimit.LOGIN_FAILURES, ratelimit.client_address(request))]
    username = str(request.POST.get("username", ""))[:MAX_USERNAME].strip().lower()
    if username:
        counts.append((ratelimit.LOGIN_FAILURES_PER_USERNAME, username))
    return counts


def _refused(request: HttpRequest, retry_after: int) -> HttpResponse:
    response = render(request, "registration/login_rate_limited.html", {"retry_after": retry_after}, status=429)
    response["Retry-After"] = str(retry_after)
    return response


login = throttled(LoginView.as_view())
