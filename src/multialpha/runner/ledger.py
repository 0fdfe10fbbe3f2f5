"""The position of record in the state store.

Every fill is one transaction that also saves the coordinator's snapshot, so the positions
table, the journal, the day's realized P&L and the coordinator can never disagree after a
crash, whatever instant it happens at.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

from multialpha.calendar import trading_day
from multialpha.state import StateStore, to_cents
from multialpha.strategy.position import ClosedTrade, OpenPosition

COORDINATOR_SNAPSHOT = "coordinator"


def _num(value: Any) -> float:
    return math.nan if value is None else float(value)


def _opt(value: float) -> float | None:
    return value if math.isfinite(value) else None


class StoreLedger:
    def __init__(self, store: StateStore, coordinator_snapshot: Callable[[], dict[str, Any]]) -> None:
        self._store = store
        self._snapshot = coordinator_snapshot

    def save_snapshot(self, when: datetime) -> None:
        self._store.daily.save_snapshot(COORDINATOR_SNAPSHOT, trading_day(when), self._snapshot())

    def opened(self, position: OpenPosition) -> None:
        with self._store.transaction() as st:
            st.positions.open(
                position.strategy, position.symbol, quantity=position.quantity, entry_time=position.entry_time,
                entry_price=repr(position.entry_price), signal_id=position.entry_intent_id,
                entry_atr=None if not math.isfinite(position.atr) else repr(position.atr),
                ml_score=position.ml_score,
                extra={"stop": _opt(position.stop), "target": _opt(position.target), "features": position.features})
            self.save_snapshot(position.entry_time)

    def closed(self, trade: ClosedTrade) -> None:
        with self._store.transaction() as st:
            st.record_exit(strategy=trade.strategy, symbol=trade.symbol, exit_time=trade.exit_time,
                           exit_price=repr(trade.exit_price), pnl_cents=to_cents(Decimal(repr(trade.pnl))),
                           exit_reason=trade.exit_reason, exit_intent_id=trade.exit_intent_id,
                           trading_day=trading_day(trade.exit_time), features=trade.features)
            self.save_snapshot(trade.exit_time)

    def open_positions(self, strategy: str) -> list[OpenPosition]:
        out = []
        for p in self._store.positions.all(strategy):
            extra = p.extra or {}
            out.append(OpenPosition(
                strategy=p.strategy, symbol=p.symbol, quantity=p.quantity, entry_price=float(p.entry_price),
                entry_time=p.entry_time, entry_intent_id=p.signal_id, stop=_num(extra.get("stop")),
                target=_num(extra.get("target")), atr=_num(p.entry_atr), ml_score=p.ml_score,
                bars_held=-1, features=dict(extra.get("features") or {})))
        return out

    def last_exit_time(self, strategy: str, symbol: str) -> datetime | None:
        times = [t.exit_time for t in self._store.journal.all(strategy) if t.symbol == symbol]
        return max(times) if times else None

    def trades(self) -> list[ClosedTrade]:
        return [ClosedTrade(t.strategy, t.symbol, t.quantity, t.entry_time, float(t.entry_price), t.exit_time,
                            float(t.exit_price), t.pnl_cents / 100.0, t.exit_reason, t.ml_score,
                            t.entry_intent_id, t.exit_intent_id, dict(t.features or {}))
                for t in self._store.journal.all()]
