"""One event's mixer process: runs the engine for the generation a launcher claimed.

Both runners end up here: the local runner's child process and the Celery mixer task.
"""

import logging
import signal
import threading
from collections.abc import Callable
from typing import BinaryIO

from django.conf import settings
from django.db import close_old_connections, connection

from events import logs
from stage.models import StageState
from stage.sources.policy import SourcePolicy
from stage.state import ENDED
from streaming import lease
from streaming.core.encoder import part_frames_for
from streaming.core.engine import MixEngine
from streaming.core.lines import LineSpec
from streaming.core.playlist import OPEN_STATE_FILE, STATE_FILE, PlaylistWriter
from streaming.core.realtime import realtime
from streaming.follower import StageFollower
from streaming.holder import LeaseHolder
from streaming.host import hls_dir, owner_name
from streaming.policed import policed_spec
from streaming.replay import finish_replay
from streaming.signalling import Signalling
from streaming.stage_link import mix_settings
from streaming.uplink import Uplinks, uses_redis

log = logging.getLogger(__name__)

# Hold music when none is configured: a soft A-major chord at about -24 dBFS.
BUILT_IN_HOLD_MUSIC = LineSpec(
    "fallback",
    "aevalsrc=0.02*sin(2*PI*220*t)+0.015*sin(2*PI*277.18*t)+0.015*sin(2*PI*329.63*t):s=48000",
    format="lavfi",
)
# The slate tone: 1 kHz at -20 dBFS, the usual line-up level.
SLATE_TONE = LineSpec("fallback", "aevalsrc=0.1*sin(2*PI*1000*t):s=48000", format="lavfi")


# A browser uplink is live WebM/Opus: probe no further than its header, wait for nothing.
UPLINK_OPTIONS = {"probesize": "4096", "analyzeduration": "0"}


def line_specs(lines: dict[str, dict], uplinks: Uplinks, policy: SourcePolicy) -> list[LineSpec]:
    """What the mixer opens for each line of the stage: its encoder or dial-in URL (or an
    organiser's test tone), checked against `policy` at every open, or the presenter's browser uplink."""
    specs = []
    for line_id, line in lines.items():
        source, format = line.get("source"), line.get("format") or None
        if source:
            specs.append(policed_spec(line_id, source, format, policy=policy))
        else:
            buffer = uplinks.buffer(line_id)
            specs.append(
                LineSpec(line_id, f"uplink:{line_id}", "matroska", UPLINK_OPTIONS, opener=buffer.open, live=True)
            )
    return specs


def fallback_spec(source: str | None = "hold_music") -> LineSpec:
    """The stage's fallback source by name: "slate_tone", or hold music (MIXER_FALLBACK_SOURCE)."""
    if source == "slate_tone":
        return SLATE_TONE
    if not settings.MIXER_FALLBACK_SOURCE:
        return BUILT_IN_HOLD_MUSIC
    return LineSpec(
        "fallback", settings.MIXER_FALLBACK_SOURCE, format=settings.MIXER_FALLBACK_FORMAT or None, loop=True
    )


def build_engine(holder: LeaseHolder, report: Callable[[dict], None]) -> MixEngine:
    return MixEngine(
        hls_dir(holder.event_id),
        bitrate=settings.HLS_BITRATE,
        frames_per_segment=settings.HLS_SEGMENT_FRAMES,
        frames_per_part=part_frames_for(settings.HLS_SEGMENT_FRAMES, settings.HLS_PART_FRAMES)
        if settings.HLS_PART_FRAMES
        else None,
        window=settings.HLS_WINDOW,
        may_publish=holder.may_publish,
        on_report=report,
        fallback=fallback_spec(),
        loudness_target=settings.MIXER_LOUDNESS_TARGET,
    )


def run_mixer(
    event_id: int, generation: int, report: Callable[[dict], None], uplink_stream: BinaryIO | None = None
) -> str:
    """Mix the event until the show ends, the lease is lost or SIGTERM; return why it stopped.
    Browser uplinks come from `uplink_stream` (the embedded runner's pipe) or from Redis. Started
    for a show that has ended already, it only finishes it (see `finish_show`)."""
    logs.bind_process(event=event_id, generation=generation)
    if not lease.start(event_id, generation, owner_name()):
        # A duplicate delivery or a start that came after its lease lapsed: a newer one owns it.
        log.warning("mixer of event %s generation %s was superseded before it started", event_id, generation)
        connection.close()
        return "superseded"
    holder = LeaseHolder(event_id, generation)
    if show_has_ended(event_id):
        reason, fenced = finish_show(holder), 0
    else:
        reason, fenced = mix_show(holder, report, uplink_stream)
    lease.release(event_id, generation)
    connection.close()
    log.info(
        "mixer of event %s generation %s stopped: %s (%s segments fenced off)", event_id, generation, reason, fenced
    )
    return reason


def show_has_ended(event_id: int) -> bool:
    return StageState.objects.filter(event_id=event_id, document__phase=ENDED).exists()


def mix_show(holder: LeaseHolder, report: Callable[[dict], None], uplink_stream: BinaryIO | None) -> tuple[str, int]:
    """Run the engine in step with the stage; returns why it stopped and how many segments the
    fence kept back."""
    event_id, generation = holder.event_id, holder.generation
    stop = threading.Event()
    previous_handler = None
    if threading.current_thread() is threading.main_thread():
        # SIGTERM finishes the current segment and releases the lease instead of dying mid-write.
        previous_handler = signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    engine = build_engine(holder, report)
    # Browsers' WebRTC offers arrive as control messages on the uplinks' way in.
    signalling = Signalling(engine.set_peer, report, enabled=settings.RTC_ENABLED)
    uplinks = Uplinks(event_id, on_control=signalling.on_control)
    if uplink_stream is not None:
        uplinks.receive_from_pipe(uplink_stream)
    elif uses_redis():
        uplinks.receive_from_redis(stop)

    first_state = threading.Event()

    def on_state(state: dict) -> None:
        engine.set_lines(line_specs(state["lines"], uplinks, settings.LINE_SOURCE_POLICY))
        mix = mix_settings(state)
        engine.set_fallback(fallback_spec(mix.fallback))
        engine.set_mix(mix.gains, public=mix.public, hold=mix.hold, card=mix.card)
        engine.set_returns(mix.returns)
        first_state.set()

    follower = StageFollower(holder, on_state, stop)
    follower.start()
    log.info("mixer of event %s generation %s started in %s", event_id, generation, owner_name())
    try:
        # The first tick must know the stage: a rehearsal's first moments never reach the public playlist.
        while not first_state.wait(0.1) and not stop.is_set():
            pass
        # The mix loop (and the readers and publisher it starts) keeps time for every return. Only
        # these threads: every thread of the process real-time was tried, and its busy threads
        # (line readers, the publisher) then took the CPU from everything beside the mixer, nice
        # or not (real-time ignores nice): the browsers and daphne of the tests, daphne itself
        # where the mixer is its child; bench_bridge could not show it was better.
        with realtime(settings.MIXER_REALTIME_PRIORITY):
            engine.run(stop)
    finally:
        stop.set()
        signalling.close()
        follower.join(timeout=5)
        if previous_handler is not None:
            signal.signal(signal.SIGTERM, previous_handler)
    # This thread's connection is hours old: a database restarted meanwhile has closed it.
    close_old_connections()
    if follower.ended and lease.holds(event_id, generation):
        return finish_show(holder, engine), engine.fenced
    if follower.lost_lease or not lease.holds(event_id, generation):
        return "lost_lease", engine.fenced
    return "stopped", engine.fenced


def finish_show(holder: LeaseHolder, engine: MixEngine | None = None) -> str:
    """End the playlist (EXT-X-ENDLIST) and write the replay, keeping the lease meanwhile.

    Idempotent: when a mixer dies before it finished, the watchdog starts generation + 1, which
    comes here without an engine and ends the playlist from its saved state."""
    event_id, directory = holder.event_id, hls_dir(holder.event_id)
    with holder.renewing():
        if engine is not None:
            engine.end_show()
        elif (directory / STATE_FILE).exists() or (directory / OPEN_STATE_FILE).exists():
            PlaylistWriter(directory, may_publish=holder.may_publish).end()
        try:
            finish_replay(event_id, directory)
        except Exception:
            # Finishing again would fail the same way: the show keeps its VOD playlist and segments.
            log.exception("replay of event %s could not be written", event_id)
            reason = "ended without a replay"
        else:
            reason = "ended"
        lease.mark_finished(event_id, holder.generation)
    return reason
