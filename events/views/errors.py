"""Error pages. A request that failed because the database or Redis could not be reached
(restarting, down, every pooled connection busy past DATABASE_POOL_TIMEOUT) is told to try again
in a moment (503 with Retry-After), not shown a server error: nothing it sent was kept, and the
same request will work once they answer. Every other failure keeps Django's 500 page.
"""

import sys

from django.db import InterfaceError, OperationalError
from django.shortcuts import render
from django.views.defaults import server_error as django_server_error
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

RETRY_AFTER_SECONDS = 5
# A service that did not answer, not a bug: the rate limiter, presence and the broker are Redis.
OUTAGES = (OperationalError, InterfaceError, RedisConnectionError, RedisTimeoutError)


def server_error(request, template_name: str = "500.html"):
    """handler500: Django calls it while the exception is being handled, so it is still in flight."""
    failure = sys.exc_info()[1]
    if isinstance(failure, OUTAGES):
        response = render(request, "events/unavailable.html", {"retry_after": RETRY_AFTER_SECONDS}, status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    return django_server_error(request, template_name)
