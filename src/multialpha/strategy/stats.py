"""Per-instrument counters a trader reads in the summary and in status."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class InstrumentStats:
    signals: int = 0  # the IBS rule fired in the session window while flat
    features_not_ready: int = 0  # a feature was NaN (not enough history): no entry
    ml_rejected: int = 0  # the ML filter said no
    ml_passed: int = 0  # the ML filter said yes (or is off): asked the coordinator
    blocked: Counter[str] = field(default_factory=Counter)  # coordinator denials by reason
    entries: int = 0  # entry orders delivered (or of unknown outcome: managed as open)
    entry_failed: int = 0  # entry orders known not delivered: slot released
    exits: Counter[str] = field(default_factory=Counter)  # by exit reason
    exit_retries: int = 0  # exit orders not confirmed: retried on the next bar
    realized_pnl: float = 0.0  # USD, after commission
    wins: int = 0
    losses: int = 0

    def as_dict(self) -> dict[str, object]:
        return {
            "signals": self.signals, "features_not_ready": self.features_not_ready,
            "ml_rejected": self.ml_rejected, "ml_passed": self.ml_passed,
            "blocked": dict(self.blocked), "entries": self.entries, "entry_failed": self.entry_failed,
            "exits": dict(self.exits), "exit_retries": self.exit_retries,
            "realized_pnl": round(self.realized_pnl, 2), "wins": self.wins, "losses": self.losses,
        }
