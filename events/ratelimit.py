"""A small sliding-window rate limiter (Redis scaled out, process memory embedded).

django-ratelimit refuses local-memory caches and covers HTTP only (its check E003, and a sync decorator);
this one costs one Redis round trip a hit (events.caches) and can guard any entry point.
"""

import ipaddress
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.http import HttpRequest

from events.caches import Window, store

KEY_PREFIX = "ratelimit"


@dataclass(frozen=True)
class Limit:
    scope: str
    count: int
    seconds: int


# A person registers once; a few retries after typos are fine, a script posting in a loop is not.
REGISTRATION = Limit("register", count=20, seconds=60)
# Wrong personal links from one address: nobody mistypes a 43-character key thirty times a minute.
# Join links, green rooms and presenters' private HLS files share this count.
BAD_LINKS = Limit("bad-link", count=30, seconds=60)
# A registrant's link sent again (the same address registering again, or an organiser's resend),
# per registration: someone who lost the mail gets it at once, a script posting the form with
# somebody else's address cannot bomb their inbox. The form answers the same either way.
LINK_RESENDS = Limit("resend-link", count=1, seconds=600)
# Failed sign-ins (console, admin): per client address, and per username, which a botnet spread
# over many addresses still hits; the username's limit is looser so that nobody can lock a
# producer out for long by failing on purpose.
LOGIN_FAILURES = Limit("login", count=10, seconds=300)
LOGIN_FAILURES_PER_USERNAME = Limit("login-user", count=30, seconds=900)
# A viewer's questions and votes, per registration: a person asks a few questions a minute at
# most and clicks through a list of upvotes; a script in a loop gets 429.
QUESTIONS = Limit("question", count=5, seconds=60)
VOTES = Limit("vote", count=60, seconds=60)


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int


def client_address(request: HttpRequest) -> str:
    """The client's address, IPv6 reduced to its /64 (one subscriber usually holds a whole /64)."""
    return address_of(request.META.get("REMOTE_ADDR") or "unknown")


def address_of(raw: str) -> str:
    """What the limiter counts for a peer address: itself, or its /64 for IPv6."""
    try:
        address = ipaddress.ip_address(raw)
    except ValueError:
        return raw[:64]
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False).network_address)
    return str(address)


def _key(limit: Limit, who: str) -> str:
    return f"{KEY_PREFIX}:{limit.scope}:{who}"


def hit(limit: Limit, who: str, now: float | None = None) -> Verdict:
    """Count one attempt by `who`; allowed while the last `limit.seconds` hold at most
    `limit.count` of them (a sliding window: no burst straddling two windows gets twice)."""
    return hit_soon(limit, who, now)()


def hit_soon(limit: Limit, who: str, now: float | None = None) -> Callable[[], Verdict]:
    """`hit`, its verdict read later: the attempt is counted now, and the returned function gives
    the verdict. Scaled out, the caller works while Redis counts (a registration validates its
    form) instead of waiting the round trip first."""
    now = time.time() if now is None else now
    answer = store().attempt_soon(_key(limit, who), now, limit.seconds, keep=limit.count + 1)

    def verdict() -> Verdict:
        window = answer()
        return _verdict(limit, window, now, allowed=window.count <= limit.count)

    return verdict


def blocked(limit: Limit, who: str, now: float | None = None) -> Verdict:
    """Whether `who` has used up the window already, without counting an attempt."""
    now = time.time() if now is None else now
    window = store().attempts(_key(limit, who), now, limit.seconds)
    return _verdict(limit, window, now, allowed=window.count < limit.count)


def _verdict(limit: Limit, window: Window, now: float, *, allowed: bool) -> Verdict:
    # The wait until the oldest attempt leaves the window (at least a second).
    leaves = (window.oldest + limit.seconds - now) if window.oldest is not None else limit.seconds
    return Verdict(allowed=allowed, retry_after=max(1, min(limit.seconds, math.ceil(leaves))))
