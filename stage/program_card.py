"""What the audience is told about the stage, from the state: the program card. Pure.

The mixer writes the card into the stream (streaming/core/playlist.py, EXT-X-DATERANGE) at the
sample where it takes effect, so a viewer's page shows it when playback reaches that sample.
"""

from stage.machine import audible_gains
from stage.qna import on_screen
from stage.state import State, current_segment


def program_card(state: State) -> dict:
    """Phase, hold, who the program carries (`speaking`: presenters in roster order, then any
    line without a presenter by its label, each on one line), the title of the segment on air and
    the question on screen with its asker's name; empty strings for none."""
    gains = audible_gains(state)
    heard = {line_id for line_id, gain in gains.items() if gain is not None}
    presenters = state["presenters"]
    speaking = [p["name"] for p in presenters.values() if p["line"] in heard]
    speaking += [
        line["label"]
        for line_id, line in state["lines"].items()
        if line_id in heard and line.get("presenter") not in presenters
    ]
    # The names travel joined by line feeds: a name's own line break would make it two names.
    speaking = [" ".join(name.splitlines()) for name in speaking]
    segment_id = current_segment(state)
    question_id = on_screen(state)
    question = state["questions"][question_id] if question_id is not None else {"text": "", "name": ""}
    return {
        "phase": state["phase"],
        "hold": bool(state.get("hold", False)),
        "speaking": speaking,
        "segment": state["segments"][segment_id]["title"] if segment_id is not None else "",
        "question": question["text"],
        "question_name": question.get("name", ""),
    }
