"""Where an event stands for the public: upcoming, live now, ended, or replay available.

The live phase belongs to the stage (its state document, reached through the `stage` relation
the stage app adds to Event); the replay is the recording the mixer leaves, vod.m3u8, once the
show has ended and the mixer has closed it. Events never imports the stage app.
"""

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.db import models
from django.utils import timezone

from events.models import Event

REPLAY_PLAYLIST = "vod.m3u8"
LIVE_PLAYLIST = "live.m3u8"
# Written beside the replay when the show is finished (streaming/core/recording.py).
CHAPTERS = "chapters.json"
DOWNLOAD = "program.m4a"
ENDLIST_TAIL = 64  # bytes: the tag and its line ends, with room for trailing blank lines


class Phase(models.TextChoices):
    UPCOMING = "upcoming", "Upcoming"
    LIVE = "live", "Live now"
    ENDED = "ended", "Ended"
    REPLAY = "replay", "Replay available"


@dataclass(frozen=True)
class PublicStatus:
    phase: str
    stage_phase: str
    version: int
    live_url: str
    replay_url: str | None
    hold: bool = False
    chapters_url: str | None = None
    download_url: str | None = None

    @property
    def label(self) -> str:
        return Phase(self.phase).label


def stage_document(event: Event) -> dict:
    """The stage's state document, or the state of a show nobody has started yet."""
    stage = getattr(event, "stage", None)
    return stage.document if stage is not None else {"phase": "preshow", "version": 0}


def replay_ready(vod: Path) -> bool:
    """Whether the replay playlist is complete: the mixer ends it (EXT-X-ENDLIST) after the show's
    last segment; until then it is still the show's running list. Reads only the file's tail."""
    try:
        with vod.open("rb") as playlist:
            playlist.seek(max(0, vod.stat().st_size - ENDLIST_TAIL))
            return b"#EXT-X-ENDLIST" in playlist.read()
    except (FileNotFoundError, IsADirectoryError):
        return False


def public_status(event: Event, now: datetime | None = None) -> PublicStatus:
    now = now or timezone.now()
    document = stage_document(event)
    stage_phase = document.get("phase", "preshow")
    directory = settings.HLS_ROOT / str(event.pk)
    replay = stage_phase == "ended" and replay_ready(directory / REPLAY_PLAYLIST)
    if stage_phase == "live":
        phase = Phase.LIVE
    elif replay:
        phase = Phase.REPLAY
    elif stage_phase == "ended" or now > event.ends_at:
        phase = Phase.ENDED
    else:
        phase = Phase.UPCOMING
    base = f"{settings.HLS_URL}{event.pk}/"
    return PublicStatus(
        phase=phase.value,
        stage_phase=stage_phase,
        version=document.get("version", 0),
        live_url=base + LIVE_PLAYLIST,
        replay_url=base + REPLAY_PLAYLIST if replay else None,
        hold=bool(document.get("hold")) and stage_phase == "live",
        chapters_url=base + CHAPTERS if replay and (directory / CHAPTERS).exists() else None,
        download_url=base + DOWNLOAD if replay and (directory / DOWNLOAD).exists() else None,
    )
