"""What the mixer takes from the stage (its mix plan) and gives back to it (line health), in one place."""

from __future__ import annotations

from dataclasses import dataclass

from stage import machine
from stage.state import MIXING_PHASES


@dataclass(frozen=True)
class MixSettings:
    """What the engine should do: gain in dB per line (None: silent) and where the program goes."""

    gains: dict[str, float | None]
    public: bool = True
    hold: bool = False
    fallback: str | None = None  # the stage's choice of fallback source, by name


def needs_mixer(state: dict) -> bool:
    """Whether the stage's phase needs a mixer (rehearsal or live; hold is a flag, not a phase)."""
    return state.get("phase") in MIXING_PHASES


def mix_settings(state: dict) -> MixSettings:
    """The stage state as the mixer's gains and routing."""
    plan = machine.mix_plan(state)
    return MixSettings(dict(plan["gains"]), plan["public"], plan["hold"], plan["fallback"])


def health_command(report: dict) -> dict | None:
    """The stage command for a mixer report that changes the stage (line health), else None."""
    if report.get("type") != "line_health":
        return None
    command = {"type": "set_line_health", "line": report["line"], "health": report["health"]}
    if report.get("fault"):
        command["fault"] = report["fault"]
    return command
