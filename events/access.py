"""Personal access keys for join links and green-room links.

A key is 256 random bits. Links carry the row's id and the key, so a lookup is by id and the key
is compared in constant time: the database index never becomes a timing oracle.
"""

import hmac
import secrets

from django.utils.crypto import salted_hmac


def new_access_key() -> str:
    """A fresh unguessable key, URL-safe."""
    return secrets.token_urlsafe(32)


def access_key_matches(stored: str, given: str) -> bool:
    """Constant-time comparison; an empty stored key (revoked) never matches."""
    return bool(stored) and hmac.compare_digest(stored.encode(), given.encode())


def key_digest(key: str) -> str:
    """What a session keeps of a key: enough to notice the key was revoked, useless as a link."""
    return salted_hmac("events.access.session", key).hexdigest()


def unlogged(response):
    """Keep Django from logging this 4xx response: the path of a personal link holds its key."""
    response._has_been_logged = True
    return response
