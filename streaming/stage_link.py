"""What the mixer takes from the stage (its mix plan) and what it and the off-air monitor give back
to it (line health, alarms), in one place."""

from __future__ import annotations

from dataclasses import dataclass, field

from stage import machine
from stage.contract.commands import MIXER, MONITOR
from stage.program_card import program_card
from stage.state import MIXING_PHASES
from streaming.core.returns import ReturnPlan


@dataclass(frozen=True)
class MixSettings:
    """What the engine should do: gain in dB per line (None: silent), where the program goes, and
    the program card it writes into the stream where these gains take effect."""

    gains: dict[str, float | None]
    public: bool = True
    hold: bool = False
    fallback: str | None = None  # the stage's choice of fallback source, by name
    returns: ReturnPlan = field(default_factory=ReturnPlan)  # what the WebRTC peers hear
    card: dict | None = None  # stage/program_card.py: what the audience is told


def needs_mixer(state: dict) -> bool:
    """Whether the stage's phase needs a mixer (rehearsal or live; hold is a flag, not a phase)."""
    return state.get("phase") in MIXING_PHASES


def mix_settings(state: dict) -> MixSettings:
    """The stage state as the mixer's gains, routing and returns. "On air" for the returns is what
    the program mixes: a muted line, or every line on hold, is backstage."""
    plan = machine.mix_plan(state)
    returns = ReturnPlan(
        on_air=frozenset(line for line, gain in plan["gains"].items() if gain is not None),
        preview=frozenset(plan["preview"]),
        backstage_open=frozenset(plan["backstage_open"]),
        talkback={actor: frozenset(lines) for actor, lines in plan["talkback"].items()},
    )
    return MixSettings(
        dict(plan["gains"]), plan["public"], plan["hold"], plan["fallback"], returns, program_card(state)
    )


# Reports that are stage facts only: the consoles learn of them from the stage's push.
STAGE_ONLY_REPORTS = frozenset({"off_air_alarm"})


def report_command(report: dict) -> tuple[dict, str] | None:
    """The stage command for a report that changes the stage, and the role it comes from: line or
    output health from the mixer, an alarm from the off-air monitor; else None."""
    if report.get("type") == "line_health":
        command = {"type": "set_line_health", "line": report["line"], "health": report["health"]}
        if report.get("fault"):
            command["fault"] = report["fault"]
        return command, MIXER
    if report.get("type") == "output":
        return {"type": "set_output_health", "health": report["health"], "dropped": report["dropped"]}, MIXER
    if report.get("type") == "off_air_alarm":
        command = {"type": "set_off_air_alarm", "alarm": report["alarm"], "active": report["active"]}
        if report.get("detail"):
            command["detail"] = report["detail"][:300]
        return command, MONITOR
    return None
