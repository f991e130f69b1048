"""What the mixer takes from the stage and gives back to it, in one place.

The stage is being extended (rehearsal and hold phases, line health, a fallback source); this
module uses the richer interface where the stage offers it (`stage.machine.mix_plan`,
`stage.broadcast.apply_and_broadcast`) and the foundation's `audible_gains` otherwise.
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass

from stage import machine
from stage.state import ENDED, PRESHOW

log = logging.getLogger(__name__)

# Phases in which no mixer runs; every other phase (live, rehearsal, hold, ...) needs one.
IDLE_PHASES = (PRESHOW, ENDED)
MIXER_ROLE = "mixer"
MIXER_ACTOR = "mixer"


@dataclass(frozen=True)
class MixSettings:
    """What the engine should do: gain in dB per line (None: silent) and where the program goes."""

    gains: dict[str, float | None]
    public: bool = True
    hold: bool = False
    fallback: str | None = None  # the stage's choice of fallback source, by name


def needs_mixer(state: dict) -> bool:
    return state.get("phase") not in IDLE_PHASES


def mix_settings(state: dict) -> MixSettings:
    """The stage state as the mixer's gains and routing."""
    mix_plan = getattr(machine, "mix_plan", None)
    if mix_plan is None:
        return MixSettings(machine.audible_gains(state))
    plan = mix_plan(state)
    return MixSettings(
        dict(plan["gains"]), bool(plan.get("public", True)), bool(plan.get("hold", False)), state.get("fallback")
    )


def health_command(report: dict) -> dict | None:
    """The stage command for a mixer report that changes the stage (line health), else None."""
    if report.get("type") != "line_health":
        return None
    command = {"type": "set_line_health", "line": report["line"], "health": report["health"]}
    if report.get("fault"):
        command["fault"] = report["fault"]
    return command


def stage_broadcaster():
    """`stage.broadcast.apply_and_broadcast` when the stage has it, else None."""
    try:
        module = importlib.import_module("stage.broadcast")
    except ImportError:
        return None
    return getattr(module, "apply_and_broadcast", None)
