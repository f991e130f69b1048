"""The stage state as each audience sees it. Pure.

Consoles see everything. Green rooms see the show but not the private chat (each presenter gets
their own conversation separately) nor the Q&A moderation queue. Viewers see only what is on air.
"""

from stage.cues import unacknowledged
from stage.qna import on_screen
from stage.state import State, current_segment, on_air_presenters

CONSOLE, GREENROOM = "console", "greenroom"
AUDIENCES = (CONSOLE, GREENROOM)
# Keys of the state the green room does not get.
GREENROOM_PRIVATE = ("messages", "questions")
# Event types the green room does not get.
GREENROOM_PRIVATE_EVENTS = ("message", "question")


def greenroom_view(state: State) -> State:
    return {key: value for key, value in state.items() if key not in GREENROOM_PRIVATE}


def conversation(state: State, presenter_id: str) -> list[dict]:
    """A presenter's chat with the producers, oldest first."""
    found = [(int(mid[1:]), mid, m) for mid, m in state["messages"].items() if m["presenter"] == presenter_id]
    return [{"id": mid} | message for _, mid, message in sorted(found)]


def public_view(state: State) -> dict:
    """What viewers may know: the phase, hold, who is speaking, the segment and the question on screen."""
    segment_id = current_segment(state)
    question_id = on_screen(state)
    return {
        "version": state["version"],
        "phase": state["phase"],
        "hold": state["hold"],
        "now_speaking": [state["presenters"][pid]["name"] for pid in on_air_presenters(state)],
        "segment": state["segments"][segment_id]["title"] if segment_id else None,
        "question": state["questions"][question_id]["text"] if question_id else None,
    }


__all__ = ["conversation", "greenroom_view", "public_view", "unacknowledged"]
