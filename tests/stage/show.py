"""A small show for the stage tests, driven through the pure machine with a clock the test owns."""

from stage import machine
from stage.state import new_line, new_presenter, new_segment

PRESENTERS = {"p1": "Ada", "p2": "Bea", "p3": "Cem", "p4": "Dov", "p5": "Eli"}
SEGMENTS = [
    ("s1", "Welcome", ["p1"], 300),
    ("s2", "Panel", ["p2", "p3"], 600),
    ("s3", "Demo", ["p4"], 120),
]
START = 1_700_000_000.0


def initial() -> dict:
    lines = {pid: new_line(name, pid) for pid, name in PRESENTERS.items()}
    roster = {pid: new_presenter(name, pid) for pid, name in PRESENTERS.items()}
    segments = [(sid, new_segment(title, people, seconds)) for sid, title, people, seconds in SEGMENTS]
    return machine.initial_state(lines, roster, segments)


class Show:
    """The state of a show and the clock; `do` applies a command and returns its happenings."""

    def __init__(self, state: dict | None = None):
        self.state = state if state is not None else initial()
        self.now = START

    def do(self, type_: str, *, role: str = "producer", actor: str = "user:pat", after: float = 1.0, **fields):
        self.now += after
        command = {"type": type_} | fields
        self.state, happenings = machine.apply(self.state, command, now=self.now, actor=actor, role=role)
        return happenings

    def refused(self, type_: str, **fields) -> machine.CommandRefused:
        before = self.state
        try:
            self.do(type_, **fields)
        except machine.CommandRefused as refusal:
            assert self.state is before
            return refusal
        raise AssertionError(f"{type_} was not refused")

    def on_air(self) -> list[str]:
        return sorted(line_id for line_id, line in self.state["lines"].items() if line["on_air"])

    def statuses(self) -> dict[str, str]:
        return {sid: self.state["segments"][sid]["status"] for sid in self.state["rundown"]}
