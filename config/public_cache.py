"""A two-second cache in front of Django for the public JSON every viewer's page polls.

The status and the Q&A list (`/e/<slug>/status.json`, `/e/<slug>/audience.json`) are the same
for every viewer and sent `Cache-Control: public, max-age=2`. At scale nginx caches them
(config/nginx/webcast.conf.template); in the embedded default, where daphne faces the viewers,
this does the same in the process: the first GET of a path goes to Django, its answer is kept
for its max-age, and GETs arriving meanwhile wait for it (as nginx's proxy_cache_lock) and are
answered from memory. Like nginx's cache key it is the path alone: neither the query string nor a
cookie changes these answers. Only a 200 that says it is public, with a max-age, no cookie and no
Vary, is kept.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass

PUBLIC_JSON = re.compile(r"/e/[-a-zA-Z0-9_]+/(?:status|audience)\.json", re.ASCII)
MAX_AGE = re.compile(rb"(?:^|[,\s])max-age=(\d+)")
# Kept answers past this many are pruned of the expired (one per event polled, normally).
MAX_ENTRIES = 1000
# A request waits this long at most for the one fetching its path, then asks Django itself (nginx's
# proxy_cache_lock_timeout in the repository's template).
LOCK_SECONDS = 5.0


@dataclass(frozen=True)
class Kept:
    start: dict
    body: bytes
    until: float


class PublicCache:
    """ASGI middleware: GETs of paths matching `paths` answered from a copy kept for its max-age."""

    def __init__(self, app, paths: re.Pattern = PUBLIC_JSON, clock=time.monotonic):
        self.app = app
        self.paths = paths
        self.clock = clock
        self.kept: dict[str, Kept] = {}
        self.fetching: dict[str, asyncio.Future] = {}

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "GET" or not self.paths.fullmatch(scope["path"]):
            return await self.app(scope, receive, send)
        path = scope["path"]
        if (fetching := self.fetching.get(path)) is not None:
            try:
                await asyncio.wait_for(asyncio.shield(fetching), LOCK_SECONDS)
            except TimeoutError:
                return await self.app(scope, receive, send)
        kept = self.kept.get(path)
        if kept is not None and kept.until > self.clock():
            await send(kept.start)
            await send({"type": "http.response.body", "body": kept.body})
            return
        if path in self.fetching:  # another request began fetching while this one looked
            return await self.app(scope, receive, send)
        fetching = self.fetching[path] = asyncio.get_running_loop().create_future()
        try:
            await self._fetch(path, scope, receive, send)
        finally:
            del self.fetching[path]
            fetching.set_result(None)

    async def _fetch(self, path: str, scope, receive, send) -> None:
        """Django's answer, sent on as it comes, and kept if it may be."""
        start: dict = {}
        body: list[bytes] = []

        async def passing_on(message):
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                body.append(message.get("body", b""))
            await send(message)

        await self.app(scope, receive, passing_on)
        max_age = _public_max_age(start)
        if max_age:
            if len(self.kept) >= MAX_ENTRIES:
                now = self.clock()
                self.kept = {key: kept for key, kept in self.kept.items() if kept.until > now}
            start = {"type": "http.response.start", "status": 200, "headers": start["headers"]}
            self.kept[path] = Kept(start, b"".join(body), self.clock() + max_age)


def _public_max_age(start: dict) -> int:
    """The seconds an answer may be kept for everyone: 0 unless it is a 200 marked public with a
    max-age, that sets no cookie and varies by nothing."""
    if start.get("status") != 200:
        return 0
    headers = {name.lower(): value for name, value in start.get("headers", [])}
    control = headers.get(b"cache-control", b"").lower()
    if b"set-cookie" in headers or b"vary" in headers or b"public" not in control:
        return 0
    found = MAX_AGE.search(control)
    return int(found.group(1)) if found else 0
