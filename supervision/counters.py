"""The additive call counters of one queue over one period (a day or 15 minutes)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from supervision.definitions import mean_s, ratio


@dataclass
class Counters:
    offered: int = 0
    answered: int = 0
    answered_within_sl: int = 0
    answered_within_sl_from_answer: int = 0  # the same, counted from the PBX's answer
    abandoned: int = 0
    abandoned_within_sl: int = 0
    short_abandoned: int = 0
    wait_answered_ms: int = 0  # sum over answered calls
    ended: int = 0  # answered calls whose talk is over
    talk_ms: int = 0  # sum over ended calls

    def add(self, other: Counters) -> None:
        for name, value in asdict(other).items():
            setattr(self, name, getattr(self, name) + value)

    def figures(self) -> dict[str, Any]:
        """The counts and the rates derived from them (see definitions.py)."""
        counted = self.answered + self.abandoned
        return {
            "offered": self.offered, "answered": self.answered,
            "answered_within_sl": self.answered_within_sl,
            "answered_within_sl_from_answer": self.answered_within_sl_from_answer,
            "abandoned": self.abandoned,
            "short_abandoned": self.short_abandoned,
            "connection_rate_pct": ratio(self.answered, counted),
            "sl_pct": ratio(self.answered_within_sl, counted),
            "sl_from_answer_pct": ratio(self.answered_within_sl_from_answer, counted),
            "sl2_pct": ratio(self.answered_within_sl + self.abandoned_within_sl, counted),
            "timely_answer_pct": ratio(self.answered_within_sl, self.answered),
            "asa_s": mean_s(self.wait_answered_ms, self.answered),
            "aht_s": mean_s(self.talk_ms, self.ended),
        }
