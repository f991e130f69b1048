"""The stage state as each audience gets it, record by record, and the happenings of a change. Pure.

Consoles get the whole state. Green rooms get the show without the private chat and the Q&A
queue, and each line as the green room shows it: whether it is on air, muted and healthy and what
kind of input it is (`source_kind`), never its source (a URL may hold a stream key), format or
fault text (stage/projections.py makes that view; these declarations hold it to it).
"""

from stage.contract.commands import COMMANDS
from stage.contract.enums import (
    CHAT_FROM,
    CUE_KIND,
    FALLBACK_SOURCE,
    LINE_HEALTH,
    OFF_AIR_ALARM,
    OUTPUT_HEALTH,
    PHASE,
    POLL_STATUS,
    PRESENTER_STATUS,
    QUESTION_STATUS,
    ROLE,
    SEGMENT_STATUS,
    SOURCE_KIND,
)
from stage.contract.fields import Field
from stage.contract.limits import MAX_ID_LENGTH

CONSOLE, GREENROOM = "console", "greenroom"

ID = Field(str, max_length=MAX_ID_LENGTH)
OPTIONAL_ID = Field(str, max_length=MAX_ID_LENGTH, nullable=True)
TEXT = Field(str)
ANY_TEXT = Field(str, blank=True)
TIME = Field(float)
OPTIONAL_TIME = Field(float, nullable=True)
FLAG = Field(bool)
IDS = Field(list, items=ID)


def _enum(enumeration, **options) -> Field:
    return Field(str, choices=enumeration.values, **options)


def _map(record: dict[str, Field]) -> Field:
    """Records keyed by id (lines, presenters, segments, cues, messages, questions)."""
    return Field(dict, values=Field(dict, record=record))


LINE = {
    "label": TEXT,
    "presenter": OPTIONAL_ID,
    "source": Field(str, nullable=True),
    "format": Field(str, nullable=True),
    "on_air": FLAG,
    "muted": FLAG,
    "gain_db": Field(float),
    "health": _enum(LINE_HEALTH),
    "fault": Field(str, nullable=True),
}
GREENROOM_LINE = {
    "presenter": OPTIONAL_ID,
    "on_air": FLAG,
    "muted": FLAG,
    "health": _enum(LINE_HEALTH),
    "source_kind": _enum(SOURCE_KIND),
}
PRESENTER = {
    "name": TEXT,
    "line": ID,
    "connected": FLAG,
    "checked_in": FLAG,
    "ready": FLAG,
    "status": _enum(PRESENTER_STATUS),
}
SEGMENT = {
    "title": TEXT,
    "presenters": IDS,
    "planned_seconds": Field(int, minimum=1),
    "status": _enum(SEGMENT_STATUS),
    "actual_start": OPTIONAL_TIME,
    "actual_end": OPTIONAL_TIME,
}
PREVIEW = {"segment": OPTIONAL_ID, "presenters": IDS}
CUE = {
    "kind": _enum(CUE_KIND),
    "to": ID,  # a presenter, or "all"
    "text": ANY_TEXT,
    "seconds": Field(int, nullable=True, minimum=1),
    "sent_at": TIME,
    "by": ANY_TEXT,
    "acks": Field(dict, values=TIME),
}
# A line of the private chat; one that carries an audience question names it.
MESSAGE = {
    "presenter": ID,
    "from": _enum(CHAT_FROM),
    "by": ANY_TEXT,
    "text": TEXT,
    "at": TIME,
    "question": Field(str, required=False, max_length=MAX_ID_LENGTH),
}
# A producer talking back: to these presenters, or to all of them.
TALKBACK = {"presenters": IDS, "all": FLAG}
# An alarm of the off-air monitor, raised since `since` (Unix time): what it found.
OFF_AIR_ALARM_RECORD = {"since": TIME, "detail": ANY_TEXT}
# A rendered deck: its images are under the event's slides folder, in `files` (an immutable name).
DECK = {"title": TEXT, "pages": Field(int, minimum=1), "files": ID, "presenter": OPTIONAL_ID, "segment": OPTIONAL_ID}
# The slide on screen: a deck's page.
SLIDE = {"deck": ID, "page": Field(int, minimum=1)}
# A question as consoles see it. The stage also keeps who asked (`asker`, a registration's primary
# key, None for a producer's question) for that viewer's own list; no audience gets it
# (stage/projections.py). Questions persisted before votes were counted have no `votes`.
QUESTION = {
    "text": TEXT,
    "name": ANY_TEXT,
    "status": _enum(QUESTION_STATUS),
    "asked_at": TIME,
    "votes": Field(int, required=False, minimum=0),
}
# A poll: its options in order (a vote names an option by its index) and a count for each.
POLL = {
    "question": TEXT,
    "options": Field(list, items=TEXT),
    "counts": Field(list, items=Field(int, minimum=0)),
    "status": _enum(POLL_STATUS),
    "results_shown": FLAG,
    "opened_at": OPTIONAL_TIME,
    "closed_at": OPTIONAL_TIME,
}

# What the mixer could not publish: null until the disk under the webcast's files first filled;
# then its health now, the segments it dropped so far (in all), and since when it is full.
OUTPUT = {"health": _enum(OUTPUT_HEALTH), "dropped": Field(int, minimum=0), "since": OPTIONAL_TIME}

STATE = {
    "version": Field(int, minimum=0),
    "phase": _enum(PHASE),
    "hold": FLAG,
    "fallback": _enum(FALLBACK_SOURCE),
    "rehearsal_since": OPTIONAL_TIME,
    "live_since": OPTIONAL_TIME,
    "ended_at": OPTIONAL_TIME,
    "lines": _map(LINE),
    "presenters": _map(PRESENTER),
    "rundown": IDS,
    "segments": _map(SEGMENT),
    "preview": Field(dict, record=PREVIEW),
    "cues": _map(CUE),
    "messages": _map(MESSAGE),
    "questions": _map(QUESTION),
    "polls": _map(POLL),
    "serial": Field(int, minimum=0),
    # Keyed by the producer's actor: only producers talking now.
    "talkback": Field(dict, values=Field(dict, record=TALKBACK)),
    # On-air presenters who also hear backstage.
    "backstage_open": IDS,
    "decks": _map(DECK),
    # The slide on screen, or None; whether the presenter on air may turn the pages.
    "slide": Field(dict, nullable=True, record=SLIDE),
    "presenter_slides": FLAG,
    # The off-air monitor's alarms now raised, by alarm (stage/contract/enums.py OFF_AIR_ALARM).
    "off_air_alarms": Field(dict, values=Field(dict, record=OFF_AIR_ALARM_RECORD)),
    "output": Field(dict, nullable=True, record=OUTPUT),
}
# Keys of the state the green room does not get: the chat, the Q&A queue, the polls, who talks
# back (producers' names; it gets the presenters being talked to instead, `talkback_to`), and the
# producers' worries: the off-air monitor's alarms and the mixer's output.
GREENROOM_PRIVATE = ("messages", "questions", "polls", "talkback", "off_air_alarms", "output")
GREENROOM_STATE = {key: field for key, field in STATE.items() if key not in GREENROOM_PRIVATE} | {
    "lines": _map(GREENROOM_LINE),
    "talkback_to": IDS,
}
STATES = {CONSOLE: STATE, GREENROOM: GREENROOM_STATE}

# A chat line as it is pushed to its presenter, or listed in their snapshot's conversation.
CHAT_LINE = Field(dict, record={"id": ID} | MESSAGE)

# One entry of the audit log as the console shows it (stage/store.py audit_entry).
AUDIT_ENTRY = Field(
    dict,
    record={
        "version": Field(int, minimum=1),
        "actor": TEXT,
        "role": _enum(ROLE),
        "type": Field(str, choices=tuple(COMMANDS)),
        "details": Field(dict),
        "at": TIME,
        "chapter": ANY_TEXT,
    },
)

_LINE_HAPPENING = {
    "line": ID,
    "on_air": Field(bool, required=False),
    "muted": Field(bool, required=False),
    "gain_db": Field(float, required=False),
    "health": _enum(LINE_HEALTH, required=False),
    "fault": Field(str, required=False, nullable=True),
    "source": Field(str, required=False, nullable=True),
}
# What each event of an applied command says (stage/machine.py and the modules it puts together).
HAPPENINGS = {
    "phase": {"phase": _enum(PHASE)},
    "hold": {"hold": FLAG},
    "fallback": {"source": _enum(FALLBACK_SOURCE)},
    "line": _LINE_HAPPENING,
    "preview": PREVIEW,
    "take": {"segment": OPTIONAL_ID, "presenters": IDS, "chapter": ANY_TEXT, "now_speaking": Field(list, items=TEXT)},
    "green_room": {"presenter": ID},
    "presenter": {
        "presenter": ID,
        "checked_in": Field(bool, required=False),
        "ready": Field(bool, required=False),
        "connected": Field(bool, required=False),
        "status": _enum(PRESENTER_STATUS, required=False),
    },
    "segment": {
        "segment": ID,
        "added": Field(bool, required=False),
        "removed": Field(bool, required=False),
        "status": _enum(SEGMENT_STATUS, required=False),
    },
    "rundown": {"rundown": IDS},
    "standby": {"segment": ID, "presenters": IDS},
    "cue": {"cue": ID, "to": ID, "kind": _enum(CUE_KIND)},
    "ack": {"cue": ID, "presenter": ID},
    "cue_cleared": {"cue": ID},
    "message": {"message": ID, "presenter": ID},
    "question": {"question": ID, "status": _enum(QUESTION_STATUS)},
    "poll": {
        "poll": ID,
        "added": Field(bool, required=False),
        "removed": Field(bool, required=False),
        "status": _enum(POLL_STATUS, required=False),
        "results_shown": Field(bool, required=False),
    },
    # The viewers' votes were counted again: the questions and polls whose counts changed.
    "votes": {"questions": IDS, "polls": IDS},
    # Who is being talked back to now, by anyone (never who talks).
    "talkback": {"presenters": IDS},
    "backstage": {"presenter": ID, "open": FLAG},
    "slide": {"deck": OPTIONAL_ID, "page": Field(int, nullable=True, minimum=1)},
    "deck": {"deck": ID, "removed": Field(bool, required=False)},
    "presenter_slides": {"allowed": FLAG},
    # The off-air monitor raised or cleared an alarm.
    "off_air_alarm": {"alarm": _enum(OFF_AIR_ALARM), "active": FLAG},
    "output": {"health": _enum(OUTPUT_HEALTH), "dropped": Field(int, minimum=0)},
}
# Event types the green room does not get, and what it does not get of a line's event.
GREENROOM_PRIVATE_HAPPENINGS = ("message", "question", "poll", "votes", "off_air_alarm", "output")
GREENROOM_HIDDEN_LINE_FIELDS = tuple(sorted(set(LINE) - set(GREENROOM_LINE)))
GREENROOM_HAPPENINGS = {
    kind: record for kind, record in HAPPENINGS.items() if kind not in GREENROOM_PRIVATE_HAPPENINGS
} | {"line": {key: field for key, field in _LINE_HAPPENING.items() if key not in GREENROOM_HIDDEN_LINE_FIELDS}}
HAPPENING_LISTS = {
    audience: Field(list, items=Field(dict, variants=happenings))
    for audience, happenings in ((CONSOLE, HAPPENINGS), (GREENROOM, GREENROOM_HAPPENINGS))
}
