"""An alpha that replays candidate trades, so the daemon's step and coordinator can trade them.

Its entry rule fires at the bars where a candidate enters; a position exits, for the
candidate's own reason, at the bar that candidate exits. Like every alpha it keeps no
state: the candidate of a position is found by the position's entry time. Stops and
targets are NaN (the candidate's exit already says when its rules closed it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from multialpha.research.portfolio.candidates import OPEN_NS, CandidateTrades

from multialpha.domain import Position
from multialpha.strategy.alpha import BarEvent

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def ns_to_datetime(ns: int) -> datetime:
    """An int64 ns UTC instant as the aware datetime the research engine gives the step."""
    return _EPOCH + timedelta(microseconds=int(ns) // 1000)


@dataclass(frozen=True)
class ReplayParams:
    """What the step reads from an alpha's parameters."""

    quantity: int = 1
    use_ml_filter: bool = False  # the candidates are already filtered
    broker_stop_loss: bool = False


class ReplayAlpha:
    """Entries and exits of ``candidates`` as an alpha's rules."""

    def __init__(self, candidates: CandidateTrades) -> None:
        self.params = ReplayParams(quantity=candidates.quantity)
        self._exit: dict[datetime, tuple[datetime | None, str]] = {}
        for entry, exit_ns, reason in zip(candidates.entry_ns.tolist(), candidates.exit_ns.tolist(),
                                          candidates.exit_reason, strict=True):
            self._exit[ns_to_datetime(entry)] = (None if exit_ns == OPEN_NS else ns_to_datetime(exit_ns), reason)

    def entry(self, bar: BarEvent) -> bool:
        return bar.close_time in self._exit

    def exit_reason(self, bar: BarEvent, position: Position) -> str | None:
        exit_at, reason = self._exit[position.entry_time]
        return reason if exit_at is not None and bar.close_time >= exit_at else None

    def stop_price(self, entry: float, atr: float) -> float:
        return math.nan

    def target_price(self, entry: float, atr: float) -> float:
        return math.nan
