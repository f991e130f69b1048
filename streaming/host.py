"""Where a process of the webcast writes and who it says it is, for the mixer and the off-air
monitor alike (a module without their heavy imports: the server imports it too)."""

import os
import socket
from pathlib import Path

from django.conf import settings


def owner_name() -> str:
    """This process, as a lease names its owner ("host:pid")."""
    return f"{socket.gethostname()}:{os.getpid()}"


def hls_dir(event_id: int) -> Path:
    """The event's HLS folder: the public playlists, segments, replay and the mixer's line record."""
    return Path(settings.HLS_ROOT) / str(event_id)
