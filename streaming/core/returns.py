"""What each WebRTC peer hears, worked out once per tick from what the mixer just mixed. Pure.

A presenter hears the program without their own voice (mix-minus: the pre-limiter sum less
their own contribution, then the program's gain, limiter envelope and ceiling: one subtraction
per presenter, never a mix of its own), ducked by `duck_db` while a producer talks back to them,
plus those producers' voices, plus the backstage bus without their own voice when they are off
air (or on air with backstage opened to them). The backstage bus is the unity sum of the off-air
presenters speaking over WebRTC and of producers holding TALK BACKSTAGE (who are not talking
back to anyone): a producer's voice goes nowhere they did not send it.
A producer hears their monitor choice: the program, the preview bus (the next take's presenters
at unity), the backstage bus (less their own voice) or one line's input before its fader (PFL).
Nothing here feeds the program: the engine mixes first and asks for the returns after.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from .mixer import Mixer, db_to_gain
from .peers import LINE_MONITOR_PREFIX

DUCK_DB = -15.0


@dataclass(frozen=True)
class ReturnPlan:
    """What the stage says about the returns: which lines are mixed on air, which presenters are
    in preview, which on-air ones also hear backstage, and who talks back to which lines."""

    on_air: frozenset[str] = frozenset()
    preview: frozenset[str] = frozenset()
    backstage_open: frozenset[str] = frozenset()
    talkback: Mapping[str, frozenset[str]] = field(default_factory=dict)  # producer actor -> line ids
    duck_db: float = DUCK_DB


@dataclass(frozen=True)
class ProducerIn:
    """A producer's side of one tick: their voice (None: silent this tick) and their monitor."""

    voice: np.ndarray | None
    monitor: str = "program"
    backstage: bool = False  # holding TALK BACKSTAGE


class Returns:
    """The return bus of one engine: `compute` once per tick, right after `Mixer.mix`."""

    def __init__(self, mixer: Mixer) -> None:
        self.mixer = mixer
        self.ceiling = mixer.ceiling
        self._silence = np.zeros((mixer.channels, mixer.frame_samples), dtype=np.float32)
        # Each presenter's current duck gain: a change ramps across one tick instead of clicking.
        self._duck: dict[str, float] = {}

    def compute(
        self,
        plan: ReturnPlan,
        frames: Mapping[str, np.ndarray],
        program: np.ndarray,
        presenters: list[str],
        speaking: set[str],
        producers: Mapping[str, ProducerIn],
    ) -> dict[str, np.ndarray]:
        """Every peer's return frame for the tick just mixed.

        `frames` are the line inputs the mixer got, `program` what it made; `presenters` are the
        line ids of presenter peers, `speaking` those whose input came from their peer this tick;
        `producers` the producer peers by actor.
        """
        returns: dict[str, np.ndarray] = {}
        backstage, own_backstage = self._backstage(plan, frames, speaking, producers)
        if presenters:
            returns.update(self._presenters(plan, frames, presenters, backstage, own_backstage, producers))
        for actor, producer in producers.items():
            returns[actor] = self._monitor(plan, frames, program, producer, backstage, own_backstage.get(actor))
        return returns

    def _backstage(
        self,
        plan: ReturnPlan,
        frames: Mapping[str, np.ndarray],
        speaking: set[str],
        producers: Mapping[str, ProducerIn],
    ) -> tuple[np.ndarray | None, dict[str, np.ndarray]]:
        """The backstage bus (None when nobody speaks on it) and each speaker's own part of it."""
        voices = {line: frames[line] for line in speaking if line not in plan.on_air and line in frames}
        for actor, producer in producers.items():
            if producer.voice is not None and producer.backstage and not plan.talkback.get(actor):
                voices[actor] = producer.voice
        if not voices:
            return None, {}
        return np.sum(np.stack(list(voices.values())), axis=0, dtype=np.float32), voices

    def _presenters(
        self,
        plan: ReturnPlan,
        frames: Mapping[str, np.ndarray],
        presenters: list[str],
        backstage: np.ndarray | None,
        own_backstage: Mapping[str, np.ndarray],
        producers: Mapping[str, ProducerIn],
    ) -> dict[str, np.ndarray]:
        count = len(presenters)
        # Mix-minus, all presenters at once: (count, channels, samples) of sum less own part.
        minus = self.mixer.last_sum[np.newaxis] - self.mixer.contributions(presenters)
        out = self.mixer.like_program(minus)
        talked_to = {line for lines in plan.talkback.values() for line in lines}
        duck = None  # made only when someone is (or was until now) talked to: unity costs nothing
        target_gain = db_to_gain(plan.duck_db)
        for row, line in enumerate(presenters):
            target = target_gain if line in talked_to else 1.0
            current = self._duck.get(line, 1.0)
            if current != target or target != 1.0:
                if duck is None:
                    duck = np.ones((count, 1, self.mixer.frame_samples), dtype=np.float32)
                if current != target:
                    duck[row, 0] = np.linspace(current, target, self.mixer.frame_samples + 1, dtype=np.float32)[1:]
                else:
                    duck[row] = target
            self._duck[line] = target
        if duck is not None:
            out *= duck
        for row, line in enumerate(presenters):
            if backstage is not None and (line not in plan.on_air or line in plan.backstage_open):
                out[row] += backstage
                own = own_backstage.get(line)
                if own is not None:
                    out[row] -= own
            for actor, lines in plan.talkback.items():
                producer = producers.get(actor)
                if line in lines and producer is not None and producer.voice is not None:
                    out[row] += producer.voice
        for gone in self._duck.keys() - set(presenters):
            del self._duck[gone]
        np.clip(out, -self.ceiling, self.ceiling, out=out)
        return {line: out[row] for row, line in enumerate(presenters)}

    def _monitor(
        self,
        plan: ReturnPlan,
        frames: Mapping[str, np.ndarray],
        program: np.ndarray,
        producer: ProducerIn,
        backstage: np.ndarray | None,
        own: np.ndarray | None,
    ) -> np.ndarray:
        choice = producer.monitor
        if choice == "program":
            return program
        if choice == "preview":
            lines = [frames[line] for line in plan.preview if line in frames]
            heard = np.sum(np.stack(lines), axis=0, dtype=np.float32) if lines else self._silence
        elif choice == "backstage":
            heard = self._silence if backstage is None else backstage if own is None else backstage - own
        elif choice.startswith(LINE_MONITOR_PREFIX):
            heard = frames.get(choice[len(LINE_MONITOR_PREFIX) :], self._silence)
        else:
            heard = self._silence
        return np.clip(heard, -self.ceiling, self.ceiling)
