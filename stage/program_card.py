"""What the audience is told about the stage, from the state: the program card. Pure.

The mixer writes the card into the stream (streaming/core/playlist.py, EXT-X-DATERANGE) at the
sample where it takes effect, so a viewer's page shows it when playback reaches that sample.
"""

from stage.machine import audible_gains
from stage.qna import on_screen
from stage.slides import slide_files
from stage.state import State, current_segment


def line_names(state: State) -> dict[str, str]:
    """Each line's name as the card says it: its presenter's, else its label, on one line (a name's
    own line break would make it two names where they travel joined by line feeds)."""
    presenters = state["presenters"]
    names = {presenter["line"]: presenter["name"] for presenter in presenters.values()}
    names |= {
        line_id: line["label"] for line_id, line in state["lines"].items() if line.get("presenter") not in presenters
    }
    return {line_id: " ".join(name.splitlines()) for line_id, name in names.items()}


def program_card(state: State) -> dict:
    """Phase, hold, who the program carries (`speaking`: presenters in roster order, then any
    line without a presenter by its label, each on one line), the title of the segment on air and
    the question on screen with its asker's name, and the slide on screen as "<deck files>/<page>";
    empty strings for none."""
    gains = audible_gains(state)
    heard = {line_id for line_id, gain in gains.items() if gain is not None}
    presenters = state["presenters"]
    names = line_names(state)
    speaking = [names[p["line"]] for p in presenters.values() if p["line"] in heard]
    speaking += [
        names[line_id]
        for line_id, line in state["lines"].items()
        if line_id in heard and line.get("presenter") not in presenters
    ]
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
        "slide": slide_files(state),
    }
