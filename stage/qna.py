"""Q&A moderation: each question pending, approved, dismissed, answered or on screen. Pure.

At most one question is on screen; putting another there marks the previous one answered.
A viewer's question keeps who asked (`asker`, their registration) for their own list only.
"""

from stage.contract.commands import VIEWER, registration_of
from stage.contract.enums import QUESTION_STATUS
from stage.state import MAX_QUESTIONS, CommandRefused, Context, Happening, State, next_id, require_not_ended

PENDING, APPROVED, DISMISSED, ANSWERED, ON_SCREEN = QUESTION_STATUS.values


def ask_question(state: State, command: dict, ctx: Context) -> list[Happening]:
    require_not_ended(state)
    if len(state["questions"]) >= MAX_QUESTIONS:
        raise CommandRefused("too_many_questions", "The question list of this show is full.", "type")
    question_id = next_id(state, "q")
    state["questions"][question_id] = {
        "text": command["text"],
        "name": command.get("name", ""),
        "status": PENDING,
        "asked_at": ctx.now,
        "votes": 0,
        "asker": registration_of(ctx.actor) if ctx.role == VIEWER else None,
    }
    return [{"type": "question", "question": question_id, "status": PENDING}]


def set_question_status(state: State, command: dict, ctx: Context) -> list[Happening]:
    question = state["questions"].get(command["question"])
    if question is None:
        raise CommandRefused("unknown_question", f"No question {command['question']!r}.", "question")
    status = command["status"]
    if status == ON_SCREEN:
        if question["status"] == DISMISSED:
            raise CommandRefused("dismissed", "A dismissed question cannot go on screen.", "status")
        for other in state["questions"].values():
            if other["status"] == ON_SCREEN and other is not question:
                other["status"] = ANSWERED
    question["status"] = status
    return [{"type": "question", "question": command["question"], "status": status}]


def on_screen(state: State) -> str | None:
    return next((qid for qid, q in state["questions"].items() if q["status"] == ON_SCREEN), None)


HANDLERS = {
    "ask_question": ask_question,
    "set_question_status": set_question_status,
}
