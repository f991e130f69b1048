"""What the stage says the audience should hear, moment by moment, as the off-air monitor knows
it: the program cards the mixer wrote into the playlist (phase, hold, who is heard, from the very
sample each took effect) and, where the caller gives it, which lines the stage has on air, muted
or not (a muted line on air is dead air to the audience; the card names only lines heard). Pure.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass

from .media_playlist import StageCard

KEEP_SECONDS = 600.0


@dataclass(frozen=True)
class Expected:
    """The stage's view at one moment: live or not, on hold or not, the names it says are heard,
    and whether anyone is on air at all (muted lines included)."""

    live: bool
    hold: bool
    speaking: frozenset[str]
    anyone_on_air: bool


class StageView:
    """The cards and on-air changes of the last minutes, by time."""

    def __init__(self) -> None:
        self._cards: dict[int, StageCard] = {}
        self._card_starts: list[tuple[float, int]] = []
        self._on_air: list[tuple[float, frozenset[str]]] = []

    def add_cards(self, cards: Iterable[StageCard]) -> None:
        """Cards as a playlist lists them (the same card comes in every reload until it slides out)."""
        for card in cards:
            if card.number not in self._cards:
                self._cards[card.number] = card
                bisect.insort(self._card_starts, (card.start, card.number))
        if len(self._card_starts) > 1:
            horizon = self._card_starts[-1][0] - KEEP_SECONDS
            # Keep the card in force at the horizon.
            while len(self._card_starts) > 1 and self._card_starts[1][0] <= horizon:
                _, number = self._card_starts.pop(0)
                del self._cards[number]

    def set_on_air(self, names: Iterable[str], at: float) -> None:
        """From `at` (the program's clock: the mixer applies a stage change within a tick or two)
        these are the lines on air, by name, muted ones included."""
        entry = (at, frozenset(names))
        if self._on_air and self._on_air[-1][1] == entry[1]:
            return
        bisect.insort(self._on_air, entry, key=lambda item: item[0])
        if len(self._on_air) > 1 and self._on_air[1][0] <= at - KEEP_SECONDS:
            self._on_air.pop(0)

    def card_at(self, moment: float) -> StageCard | None:
        index = bisect.bisect_right(self._card_starts, (moment, float("inf"))) - 1
        return self._cards[self._card_starts[index][1]] if index >= 0 else None

    def expected_at(self, moment: float) -> Expected | None:
        """The stage's view at `moment`, or None when neither a card nor the on-air lines are known."""
        card = self.card_at(moment)
        index = bisect.bisect_right(self._on_air, moment, key=lambda item: item[0]) - 1
        on_air = self._on_air[index][1] if index >= 0 else None
        if card is None and on_air is None:
            return None
        speaking = frozenset(card.speaking) if card is not None else frozenset()
        return Expected(
            live=card.phase == "live" if card is not None else True,
            hold=card.hold if card is not None else False,
            speaking=speaking,
            anyone_on_air=bool(speaking) or bool(on_air),
        )

    def same_card(self, start: float, end: float) -> bool:
        """Whether one card is in force from `start` to just before `end`."""
        return self.card_at(start) is self.card_at(end - 1e-3)
