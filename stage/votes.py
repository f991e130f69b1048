"""The viewers' votes in the state: question upvotes and poll answers, as counted. Pure.

Votes are rows in the database, one per viewer and question or poll (stage.models); the system
counts them and sends the totals (`set_votes`, stage/tally.py). Counts are absolute, so a tally
that arrives late, twice or out of order with a newer one still converges on the rows.
"""

from stage.state import Context, Happening, State


def set_votes(state: State, command: dict, ctx: Context) -> list[Happening]:
    """Set the counts of the questions and polls named; ids no longer in the state are ignored,
    and a poll's counts only when they match its options."""
    questions = []
    for question_id, votes in command["questions"].items():
        question = state["questions"].get(question_id)
        if question is not None and question.get("votes", 0) != votes:
            question["votes"] = votes
            questions.append(question_id)
    polls = []
    for poll_id, counts in command["polls"].items():
        poll = state["polls"].get(poll_id)
        if poll is not None and len(counts) == len(poll["options"]) and poll["counts"] != counts:
            poll["counts"] = list(counts)
            polls.append(poll_id)
    if not questions and not polls:
        return []
    return [{"type": "votes", "questions": sorted(questions), "polls": sorted(polls)}]


HANDLERS = {"set_votes": set_votes}
