"""The low-latency live playlist at the origin: blocking playlist reload and the parts.

A player asks for `live.m3u8?_HLS_msn=N&_HLS_part=M` and gets the playlist the moment that part is
in it (RFC 8216bis 6.2.5.2); a player that asks for the part the playlist hints at
(EXT-X-PRELOAD-HINT) before it exists gets it the moment it is written. A waiting request holds
no thread: it is a future on daphne's event loop, woken by the one watch of that playlist in this
process (streaming/core/playlist_watch.py).

That is why this is an ASGI handler in front of Django (config/asgi.py) and not a Django view:
Django runs every request in a thread-sensitive context whose first synchronous step (the
request_started signal's database clean-up, any MiddlewareMixin) starts a thread that lives as
long as the request, so an async view waiting for a part still holds a thread (measured: 30
waiting requests, 29 more threads in daphne). These requests need nothing of Django's but the
media pass, which is one HMAC of a cookie. Everything else goes on to Django, plain reloads of
the live playlist too (streaming/views.py, with the same headers).

The embedded default answers these itself; at scale nginx sends them here and caches each answer,
so the origin answers each blocking reload once per part, not once per viewer
(config/nginx/webcast.conf.template).
"""

import re
from pathlib import Path
from urllib.parse import parse_qs

from django.conf import settings
from django.http.cookie import parse_cookie

from streaming import passes
from streaming.core import delivery
from streaming.core.hls_files import CONTENT_TYPES, cache_control
from streaming.core.playlist_watch import watch

LIVE_PLAYLIST = "live.m3u8"
PLAYLIST_PATH = re.compile(r"/hls/([0-9]{1,18})/live\.m3u8", re.ASCII)
PART_PATH = re.compile(r"/hls/([0-9]{1,18})/(part_([0-9]{6})_([0-9]{1,3})\.ts)", re.ASCII)


class LowLatencyHls:
    """ASGI: blocking reloads of an event's live playlist and its parts; the rest to `app`."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            query = parse_qs(scope["query_string"].decode("latin-1"), keep_blank_values=True)
            if (playlist := PLAYLIST_PATH.fullmatch(scope["path"])) and delivery.asks_to_wait(query):
                await _answer(send, *await _blocking_reload(scope, int(playlist[1]), query))
                return
            if part := PART_PATH.fullmatch(scope["path"]):
                await _answer(send, *await _part(scope, int(part[1]), part[2], int(part[3]), int(part[4])))
                return
        await self.app(scope, receive, send)


async def _blocking_reload(scope, event_id: int, query: dict) -> tuple[int, bytes, str]:
    """The playlist once it holds what the directives ask for; 400 for a request the
    specification refuses, 503 when it does not come within three target durations."""
    if not _has_pass(scope, event_id):
        return _refused()
    try:
        wanted = delivery.read_directive(query)
    except delivery.BadDirective as refusal:
        return 400, str(refusal).encode(), "text/plain"
    path = _folder(event_id) / LIVE_PLAYLIST
    text = _read(path)
    if text is None:
        return _not_found()
    at = delivery.edge(text.decode())
    try:
        delivery.check(wanted, at)
    except delivery.BadDirective as refusal:
        return 400, str(refusal).encode(), "text/plain"
    if not delivery.holds(at, wanted):
        text = await watch(path).wait(lambda later: delivery.holds(later, wanted), at.hold_seconds)
        if text is None:
            return 503, b"The playlist did not get there in time.", "text/plain"
    return 200, text, ".m3u8"


async def _part(scope, event_id: int, name: str, msn: int, number: int) -> tuple[int, bytes, str]:
    """A part of the live playlist; one not written yet but next in line (the preload hint) as
    soon as it is; one that does not come within three target durations is not found."""
    if not _has_pass(scope, event_id):
        return _refused()
    folder = _folder(event_id)
    data = _read(folder / name)
    if data is not None:
        return 200, data, ".ts"
    playlist = _read(folder / LIVE_PLAYLIST)
    if playlist is None:
        return _not_found()
    wanted, at = delivery.Directive(msn, number), delivery.edge(playlist.decode())
    try:
        delivery.check(wanted, at)
    except delivery.BadDirective:
        return _not_found()  # not hinted, nor anywhere near
    if delivery.holds(at, wanted):
        return _not_found()  # its time has come: it never was (its segment was cut) or is deleted
    if await watch(folder / LIVE_PLAYLIST).wait(lambda later: delivery.holds(later, wanted), at.hold_seconds) is None:
        return _not_found()
    data = _read(folder / name)  # listed now, unless its segment was cut before it
    return (200, data, ".ts") if data is not None else _not_found()


def _has_pass(scope, event_id: int) -> bool:
    cookies = {}
    for name, value in scope["headers"]:
        if name == b"cookie":
            cookies |= parse_cookie(value.decode("latin-1"))
    return passes.admits(cookies.get(passes.COOKIE, ""), event_id)


def _folder(event_id: int) -> Path:
    return Path(settings.HLS_ROOT) / str(event_id)


def _read(path: Path) -> bytes | None:
    # A few kilobytes from the local disk, read on the event loop: quicker than a thread hop.
    try:
        return path.read_bytes()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None


def _refused() -> tuple[int, bytes, str]:
    return 403, passes.REFUSAL.encode(), "text/plain"


def _not_found() -> tuple[int, bytes, str]:
    return 404, b"No such file.", "text/plain"


async def _answer(send, status: int, body: bytes, kind: str) -> None:
    """The response, with the headers the Django view gives the same file (streaming/views.py)."""
    headers = [(b"content-length", str(len(body)).encode()), (b"x-content-type-options", b"nosniff")]
    if kind.startswith("."):
        headers += [(b"content-type", CONTENT_TYPES[kind].encode()), (b"cache-control", cache_control(kind).encode())]
    else:
        headers += [(b"content-type", f"{kind}; charset=utf-8".encode()), (b"cache-control", b"no-store")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
