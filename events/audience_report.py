"""The audience's part of an event's report: its questions with their upvotes and its polls with
their answers, as the stage's state document holds them (read through the `stage` relation, as
events/status.py does: events never imports the stage app). A CSV of the same for download."""

import csv
from dataclasses import dataclass

from django.http import HttpResponse

from events.export import csv_safe
from events.models import Event
from events.status import stage_document


@dataclass(frozen=True)
class QuestionLine:
    text: str
    name: str
    status: str
    votes: int


@dataclass(frozen=True)
class PollOption:
    text: str
    count: int
    percent: int


@dataclass(frozen=True)
class PollLine:
    question: str
    status: str
    total: int
    options: list[PollOption]


def _made(record_id: str) -> int:
    """The creation number in a stage record id ("q12" is the twelfth record made)."""
    return int(record_id[1:]) if record_id[1:].isdigit() else 0


def _words(status: str) -> str:
    return status.replace("_", " ")


def questions(event: Event) -> list[QuestionLine]:
    """Every question asked, most upvoted first, then in the order asked."""
    asked = stage_document(event).get("questions", {})
    order = sorted(asked, key=lambda qid: (-asked[qid].get("votes", 0), _made(qid)))
    return [
        QuestionLine(asked[qid]["text"], asked[qid]["name"], _words(asked[qid]["status"]), asked[qid].get("votes", 0))
        for qid in order
    ]


def polls(event: Event) -> list[PollLine]:
    """Every poll that was opened, in the order prepared, with each option's count and share."""
    prepared = stage_document(event).get("polls", {})
    lines = []
    for pid in sorted(prepared, key=_made):
        poll = prepared[pid]
        if poll["status"] == "draft":
            continue
        total = sum(poll["counts"])
        options = [
            PollOption(text, count, round(100 * count / total) if total else 0)
            for text, count in zip(poll["options"], poll["counts"], strict=True)
        ]
        lines.append(PollLine(poll["question"], _words(poll["status"]), total, options))
    return lines


class _Line:
    def write(self, line: str) -> str:
        return line


def csv_response(event: Event, filename: str) -> HttpResponse:
    """The questions and the polls as one CSV: a row per question, a row per poll option."""
    writer = csv.writer(_Line())
    rows = [["Kind", "Text", "Asked by / option", "Status", "Upvotes / answers"]]
    rows += [["question", q.text, q.name, q.status, q.votes] for q in questions(event)]
    for poll in polls(event):
        rows += [["poll", poll.question, option.text, poll.status, option.count] for option in poll.options]
    # The byte-order mark makes spreadsheet programs read the file as UTF-8; viewers' texts are
    # kept from being read as formulas (csv_safe).
    body = "\ufeff" + "".join(writer.writerow([csv_safe(cell) for cell in row]) for row in rows)
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response
