"""The ASGI front of the web process: what every viewer asks for all the time, answered without
Django's request machinery.

In the embedded default daphne serves the viewers' HLS files itself. Through Django each one cost
about 3 ms of CPU (middleware and thread hops, not the view: `manage.py bench_front`); here the
media pass is checked (streaming/passes.py), the file answered by the same rules as the Django
view (streaming/core/hls_files.py) and the pass renewed on its ticket (streaming/renewals.py) in a
fraction of that. At scale nginx serves the files and this front only the renewals.

Everything else goes to the app behind, untouched: other methods (405), the pass endpoint when the
ticket does not grant, any other path, and low-latency HLS's blocking reloads (a query with
`_HLS_msn`, `_HLS_part`, `_HLS_skip`), which an async Django view holds open until the part exists.
"""

from __future__ import annotations

import asyncio
import re
from urllib.parse import parse_qsl

from django.conf import settings
from django.http import HttpResponse
from django.http.cookie import parse_cookie

from streaming import passes, renewals
from streaming.core import hls_files

# As streaming/urls.py routes them: `hls/<int:event_id>/<str:name>` and `hls/<int:event_id>/pass/`
# (eighteen digits at most: no event has a longer id, and Django answers for those).
ROUTE = re.compile(r"/hls/([0-9]{1,18})/(?:(pass)/|([^/]+))", re.ASCII)
# Recordings are sent in pieces read off the event loop.
CHUNK_BYTES = 256 * 1024
# As nginx and Django's SecurityMiddleware send with every file.
NOSNIFF = (b"x-content-type-options", b"nosniff")


class MediaFront:
    """ASGI middleware: answers GET and HEAD of an event's public HLS files and renewals on a
    ticket; passes every other request to `app`."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            path = scope["path"].removeprefix(scope.get("root_path", ""))
            route = ROUTE.fullmatch(path)
            if route is not None and not _low_latency(scope.get("query_string", b"")):
                event_id, method = int(route[1]), scope["method"]
                if route[3] is not None and method in ("GET", "HEAD"):
                    return await _file(scope, send, event_id, route[3], head=method == "HEAD")
                if route[2] is not None and method == "POST":
                    # No CSRF check: the ticket only renews what its own holder already has.
                    ticket = _cookies(scope).get(passes.RENEWAL_COOKIE, "")
                    response = await renewals.renewal(ticket, event_id)
                    if response is not None:
                        return await _send_response(send, response)
        return await self.app(scope, receive, send)


async def _file(scope, send, event_id: int, name: str, head: bool) -> None:
    if not passes.admits(_cookies(scope).get(passes.COOKIE, ""), event_id):
        return await _send_response(send, passes.refused(), head)
    # Playlists and segments are small and just written (the page cache has them): read in the loop.
    found = hls_files.answer(settings.HLS_ROOT, event_id, name, _header(scope, b"range"))
    headers = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in found.headers]
    await send({"type": "http.response.start", "status": found.status, "headers": [*headers, NOSNIFF]})
    if not isinstance(found.body, hls_files.Opened):
        await send({"type": "http.response.body", "body": b"" if head else found.body})
        return
    part = found.body
    try:
        part.file.seek(part.start)
        left = 0 if head else part.length
        while left > 0 and (chunk := await asyncio.to_thread(part.file.read, min(CHUNK_BYTES, left))):
            left -= len(chunk)
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
    finally:
        part.file.close()  # also when nothing was read (HEAD) or the client went away
    await send({"type": "http.response.body", "body": b""})


async def _send_response(send, response: HttpResponse, head: bool = False) -> None:
    """A small Django response, sent as Django's ASGI handler sends it."""
    headers = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in response.items()]
    headers += [(b"set-cookie", c.output(header="").strip().encode("latin-1")) for c in response.cookies.values()]
    headers.append((b"content-length", str(len(response.content)).encode()))
    await send({"type": "http.response.start", "status": response.status_code, "headers": [*headers, NOSNIFF]})
    await send({"type": "http.response.body", "body": b"" if head else response.content})


def _header(scope, wanted: bytes) -> str:
    """A request header's value, repeated ones joined with commas as Django's request joins them."""
    return ",".join(value.decode("latin-1") for name, value in scope["headers"] if name.lower() == wanted)


def _cookies(scope) -> dict[str, str]:
    return parse_cookie(_header(scope, b"cookie"))


def _low_latency(query_string: bytes) -> bool:
    """Whether the query asks for a low-latency HLS blocking reload or delta (Django's to answer)."""
    return bool(query_string) and any(
        key.startswith("_HLS_") for key, _ in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)
    )
