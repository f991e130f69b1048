"""At show end: the downloadable recording and its chapters, from the stage's audit log.

Files beside the HLS (served under /hls/<event id>/): vod.m3u8 (the whole show), program.m4a
(download), chapters.json and chapters.vtt. The recording, program.aac, is rebuilt from the
segments vod.m3u8 lists, so the download is the VOD sample for sample.
"""

import json
import logging
from pathlib import Path

import av

from events.models import Event
from stage.models import StageLogEntry
from streaming.core import recording
from streaming.core.engine import RECORDING_NAME
from streaming.core.playlist import STATE_FILE

log = logging.getLogger(__name__)


def takes(event: Event, state: dict) -> list[tuple[float, str]]:
    """When each take happened and its title: the chapter the stage logged (a run-of-show segment
    or the presenters taken to air), or, for a plain line put on air, the line's label."""
    labels = {line_id: line.get("label", line_id) for line_id, line in state.get("lines", {}).items()}
    found = []
    for entry in StageLogEntry.objects.filter(event=event).order_by("version"):
        command = entry.command
        chapter = getattr(entry, "chapter", "")
        if chapter:
            found.append((entry.applied_at, chapter))
        elif command.get("type") == "set_on_air" and command.get("on_air"):
            found.append((entry.applied_at, labels.get(command["line"], command["line"])))
    return found


def finish_replay(event_id: int, directory: Path) -> list[recording.Chapter]:
    """Write chapters.json, chapters.vtt and program.m4a for an ended show; returns the chapters."""
    event = Event.objects.select_related("stage").get(pk=event_id)
    state_file = directory / STATE_FILE
    if not state_file.exists():
        return []
    history = json.loads(state_file.read_text())["history"]
    spans = recording.spans_from_history(history)
    found = recording.chapters(spans, takes(event, event.stage.document), default_title=event.title)
    recording.write_chapter_files(directory, found)
    adts = directory / RECORDING_NAME
    try:
        recording.rebuild_recording([(directory / s["uri"], s["duration"]) for s in history], adts)
    except (OSError, ValueError, av.FFmpegError):
        # A published segment unreadable: the running recording is the best there is.
        log.exception("replay of event %s: recording kept as the mixer wrote it", event_id)
    if adts.exists() and adts.stat().st_size:
        recording.remux_to_m4a(adts, directory / recording.DOWNLOAD_NAME, found, event.title)
    log.info("replay of event %s: %s chapters", event_id, len(found))
    return found
