"""Every enumeration of the stage, each value with the label the pages show for it. Pure.

The state machine takes its constants from here (stage/state.py), the messages check against
them (messages.py), and the pages get them as data (document.py), so a value or a label is
written once. A page may word a value for its own audience (the green room talks to presenters
in sentences), but only for the values declared here: the JavaScript tests check its tables.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Enumeration:
    """Values in their order, each with its label."""

    labels: dict[str, str]

    @property
    def values(self) -> tuple[str, ...]:
        return tuple(self.labels)


PHASE = Enumeration({"preshow": "Pre-show", "rehearsal": "Rehearsal", "live": "Live", "ended": "Ended"})
# "unknown" until the mixer first reports on a line; the mixer reports the others.
LINE_HEALTH = Enumeration(
    {
        "unknown": "no signal yet",
        "connecting": "connecting",
        "ok": "receiving",
        "silent": "silent",
        "faulted": "faulted",
    }
)
FALLBACK_SOURCE = Enumeration({"hold_music": "hold music", "slate_tone": "slate tone"})
# What a presenter tells the producers beside their line's meter (the back-channel).
PRESENTER_STATUS = Enumeration(
    {"ok": "OK", "audio_problem": "Audio problem", "need_a_moment": "Need a moment", "dropping_off": "Dropping off"}
)
SEGMENT_STATUS = Enumeration(
    {"queued": "queued", "standby": "standby", "on_air": "on air", "done": "done", "skipped": "skipped"}
)
CUE_KIND = Enumeration({"standby": "standby", "on": "you're on", "wrap_up": "wrap up", "custom": "cue"})
QUESTION_STATUS = Enumeration(
    {
        "pending": "pending",
        "approved": "approved",
        "dismissed": "dismissed",
        "answered": "answered",
        "on_screen": "on screen",
    }
)
# A poll is prepared (draft), open to viewers' votes, or closed; its results are shown apart.
POLL_STATUS = Enumeration({"draft": "draft", "open": "open", "closed": "closed"})
# Who wrote a line of the private chat.
CHAT_FROM = Enumeration({"producer": "producer", "presenter": "presenter"})
ROLE = Enumeration(
    {
        "producer": "producer",
        "presenter": "presenter",
        "mixer": "mixer",
        "system": "system",
        "viewer": "viewer",
        # The off-air monitor: it reports what the audience receives (streaming/off_air.py).
        "monitor": "off-air monitor",
        # A socket's role until it is admitted (stage/admission.py): it may send nothing at all.
        "nobody": "nobody",
    }
)
# What a presenter's tally shows (stage/state.py `tally`): "program" only when the line is mixed
# into what people hear; on air but not heard says why (before the show, on hold, muted).
TALLY = Enumeration(
    {"program": "on air", "preview": "preview", "idle": "idle", "hold": "on hold", "muted": "muted", "off": "off air"}
)
# Where a line's audio comes from, as presenters may know it: never the URL, which may hold a
# stream key (stage/sources/kinds.py).
SOURCE_KIND = Enumeration(
    {
        "browser": "browser microphone",
        "encoder": "encoder",
        "dial_in": "dial-in line",
        "stream": "stream",
        "test_tone": "test tone",
        "file": "file",
        "other": "external source",
    }
)
ALARM = Enumeration({"silence": "silence"})
# What the off-air monitor finds wrong with the published stream (streaming/core/off_air.py), and
# its own silence (the watchdog's: streaming/off_air_supervision.py).
OFF_AIR_ALARM = Enumeration(
    {
        "dead_air": "dead air",
        "loud": "too loud",
        "late": "stream late",
        "stalled": "stream stalled",
        "regressed": "playlist went back",
        "discontinuity": "stream cut",
        "wrong_line": "wrong line heard",
        "monitor_down": "off-air monitor down",
    }
)

# Whether the mixer can write the webcast's files: "disk_full" while the disk under them is full.
OUTPUT_HEALTH = Enumeration({"ok": "publishing", "disk_full": "disk full"})
# The on-air segment's clock: fine, in its last stretch, or over time.
CLOCK_LEVEL = Enumeration({"ok": "remaining", "warn": "remaining", "over": "overrun"})

ENUMERATIONS: dict[str, Enumeration] = {
    "phase": PHASE,
    "line_health": LINE_HEALTH,
    "fallback_source": FALLBACK_SOURCE,
    "presenter_status": PRESENTER_STATUS,
    "segment_status": SEGMENT_STATUS,
    "cue_kind": CUE_KIND,
    "question_status": QUESTION_STATUS,
    "poll_status": POLL_STATUS,
    "chat_from": CHAT_FROM,
    "role": ROLE,
    "tally": TALLY,
    "source_kind": SOURCE_KIND,
    "alarm": ALARM,
    "off_air_alarm": OFF_AIR_ALARM,
    "output_health": OUTPUT_HEALTH,
    "clock_level": CLOCK_LEVEL,
}

# Named parts of enumerations that rules depend on.
MIXING_PHASES = ("rehearsal", "live")  # the mixer runs and lines are audible (publicly only when live)
REPORTED_HEALTH = tuple(value for value in LINE_HEALTH.values if value != "unknown")
CARRYING_HEALTH = ("ok", "silent")  # a line that delivers audio, even quiet audio, carries the program
NOT_STARTED = ("queued", "standby", "skipped")  # segments that have not happened: removable, skippable
GROUPS: dict[str, tuple[str, ...]] = {
    "mixing_phases": MIXING_PHASES,
    "reported_health": REPORTED_HEALTH,
    "carrying_health": CARRYING_HEALTH,
    "not_started": NOT_STARTED,
}

# How a socket is closed when the server ends it, by why (WebSocket private-use codes).
CLOSE_CODES = {
    "bad_media": 4400,  # the uplink sent something that is not the audio it must be
    "forbidden": 4403,  # not admitted, or no longer: the page stops retrying
    "superseded": 4409,  # a newer connection took the line over
    "too_fast": 4429,  # too many messages, or too many wrong links from this address
    # The server cannot serve this socket now (its database or channel layer did not answer):
    # the page reconnects with back-off.
    "unavailable": 4503,
}
