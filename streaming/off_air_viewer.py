"""The off-air monitor's player: it fetches an event's public HLS files as a viewer's does, over
HTTP from the public path (the site, or the nginx in front: OFF_AIR_BASE_URL), with a media pass.

The monitor is the server's own, so it makes its own pass (streaming/core/media_pass.py) rather
than asking for one with a join session; what checks the pass (the HLS view, nginx) is the same.
"""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from urllib.parse import urljoin

from streaming.core import media_pass
from streaming.passes import COOKIE, folder


class ViewerError(Exception):
    """A file could not be fetched: the HTTP status or the network's reason."""


class StreamViewer:
    """GETs files of one event's HLS folder, relative to its live playlist."""

    def __init__(self, base_url: str, event_id: int, *, secret: str, pass_seconds: int, timeout: float) -> None:
        self.folder = folder(event_id)
        self.playlist_url = f"{base_url.rstrip('/')}{self.folder}live.m3u8"
        self.secret = secret
        self.pass_seconds = pass_seconds
        self.timeout = timeout
        # No proxy from the environment: the monitor must see what the public path serves.
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def get(self, uri: str = "live.m3u8") -> bytes:
        """The file at `uri` (relative to the live playlist, as its segment URIs are)."""
        value = media_pass.issue(self.folder, time.time(), self.pass_seconds, self.secret)
        request = urllib.request.Request(
            urljoin(self.playlist_url, uri), headers={"Cookie": f"{COOKIE}={value}", "User-Agent": "off-air-monitor"}
        )
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                return response.read()
        except urllib.error.HTTPError as error:
            raise ViewerError(f"HTTP {error.code}") from None
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise ViewerError(f"no answer ({reason})") from None
