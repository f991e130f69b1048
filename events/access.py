"""Personal access keys for join links and green-room links.

A key is 256 random bits. Links carry the row's id and the key, so a lookup is by id and the key
is compared in constant time: the database index never becomes a timing oracle.
"""

import hmac
import logging
import re
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


# Paths whose segments may hold a personal key: join and cancel links, green rooms, presenters'
# private HLS files and the presenters' sockets, also when mangled (a key in the wrong place).
KEYED_PATH = re.compile(r"/(?:join|greenroom|hls/\d+/private|ws)/[^\s?#\"']*")
# Segments of those paths that are never a key: route words, ids, line ids and media file names.
ROUTE_WORDS = frozenset({"", "join", "cancel", "greenroom", "hls", "private", "ws", "events", "lines", "uplink",
                         "console"})
PLAIN_SEGMENT = re.compile(r"\d+|p\d+|[A-Za-z0-9_-]{1,32}\.(?:m3u8|ts)", re.ASCII)
REDACTED = "…"


def _redact_path(match: re.Match) -> str:
    segments = match.group(0).split("/")
    return "/".join(
        segment if segment in ROUTE_WORDS or PLAIN_SEGMENT.fullmatch(segment) else REDACTED for segment in segments
    )


def redact_keys(text: str) -> str:
    """`text` with every segment of a keyed path that could be a key replaced by "…"."""
    return KEYED_PATH.sub(_redact_path, text)


class RedactKeys(logging.Filter):
    """Rewrites a log record's message without keys: for loggers that print request paths
    (Django's 4xx/5xx and CSRF warnings, runserver's access lines)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_keys(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True
