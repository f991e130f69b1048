"""The show's clocks, how they are written and the planned-versus-actual run report. Pure: `now`
is passed in. The pages run the same rules (operator/static/operator/stage-views.js), checked on
the same cases (tests/js/stage-views.cases.json)."""

import math

from stage.contract.limits import WARN_FRACTION, WARN_SECONDS
from stage.state import DONE, LIVE, ON_AIR, REHEARSAL, SKIPPED, State, current_segment


def show_clock(state: State, now: float) -> float:
    """Seconds the show (or the rehearsal) has been running; stops when the show ends."""
    if state["phase"] == REHEARSAL and state["rehearsal_since"] is not None:
        return max(0.0, now - state["rehearsal_since"])
    if state["live_since"] is None:
        return 0.0
    until = state["ended_at"] if state["ended_at"] is not None else now
    return max(0.0, until - state["live_since"])


def segment_timer(state: State, now: float) -> dict | None:
    """The on-air segment's elapsed and remaining seconds; `overrun` once remaining runs out."""
    segment_id = current_segment(state)
    if segment_id is None:
        return None
    segment = state["segments"][segment_id]
    elapsed = max(0.0, now - segment["actual_start"])
    remaining = segment["planned_seconds"] - elapsed
    return {
        "segment": segment_id,
        "elapsed": elapsed,
        "remaining": remaining,
        "overrun": remaining < 0,
        "level": clock_level(segment["planned_seconds"], remaining),
    }


def clock_level(planned_seconds: float, remaining: float) -> str:
    """How a segment's clock looks with `remaining` seconds left: ok, warn or over."""
    warn_at = min(WARN_SECONDS, planned_seconds * WARN_FRACTION)
    return "over" if remaining < 0 else "warn" if remaining <= warn_at else "ok"


def format_clock(seconds: float, hours: bool = False) -> str:
    """Whole seconds as `mm:ss`, or `hh:mm:ss` when asked or past an hour; "−" before a negative."""
    sign = "\u2212" if seconds < 0 else ""
    total = math.floor(abs(seconds))
    rest = f"{total // 60 % 60:02d}:{total % 60:02d}"
    return sign + (f"{total // 3600:02d}:{rest}" if hours or total >= 3600 else rest)


def run_report(state: State) -> list[dict]:
    """Each segment in running order: planned start (from the live start, skipping skipped
    segments) and duration beside the actual start, end and duration."""
    rows = []
    planned_start = state["live_since"] if state["phase"] in (LIVE, "ended") else None
    for segment_id in state["rundown"]:
        segment = state["segments"][segment_id]
        start, end = segment["actual_start"], segment["actual_end"]
        actual = end - start if start is not None and end is not None else None
        rows.append(
            {
                "segment": segment_id,
                "title": segment["title"],
                "status": segment["status"],
                "planned_start": planned_start if segment["status"] != SKIPPED else None,
                "planned_seconds": segment["planned_seconds"],
                "actual_start": start,
                "actual_end": end,
                "actual_seconds": actual,
                "over_seconds": actual - segment["planned_seconds"] if actual is not None else None,
            }
        )
        if planned_start is not None and segment["status"] != SKIPPED:
            planned_start += segment["planned_seconds"]
    return rows


__all__ = ["DONE", "ON_AIR", "clock_level", "format_clock", "run_report", "segment_timer", "show_clock"]
