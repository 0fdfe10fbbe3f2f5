"""The position of record in the state store.

Every fill is one transaction that also saves the coordinator's snapshot, so the positions
table, the journal, the day's realized P&L and the coordinator can never disagree after a
crash, whatever instant it happens at. It also saves which instruments were already done with
the fill's bar time: after a crash later in that bar time, those are not evaluated again, since
the restored coordinator already holds what happened after them (a daily stop hit, a slot
freed or taken) and an instrument evaluated again would see it.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

from multialpha.calendar import trading_day
from multialpha.domain import ClosedTrade, Position
from multialpha.state import StateStore, to_cents

COORDINATOR_SNAPSHOT = "coordinator"
EVALUATED_SNAPSHOT = "evaluated"


def _num(value: Any) -> float:
    return math.nan if value is None else float(value)


def _opt(value: float) -> float | None:
    return value if math.isfinite(value) else None


class StoreLedger:
    def __init__(self, store: StateStore, coordinator_snapshot: Callable[[], dict[str, Any]]) -> None:
        self._store = store
        self._snapshot = coordinator_snapshot
        self._lock = threading.Lock()
        self._bar: datetime | None = None
        self._done: list[tuple[str, str]] = []  # instruments done with bar time self._bar, in order
        saved = store.daily.load_snapshot(EVALUATED_SNAPSHOT)
        self._done_before_restart: dict[tuple[str, str], datetime] = {} if saved is None else {
            (strategy, symbol): datetime.fromisoformat(saved.data["close_time"])
            for strategy, symbol in saved.data["instruments"]}

    def save_snapshot(self, when: datetime) -> None:
        self._store.daily.save_snapshot(COORDINATOR_SNAPSHOT, trading_day(when), self._snapshot())

    def evaluated(self, strategy: str, symbol: str, when: datetime) -> None:
        with self._lock:
            if when != self._bar:
                self._bar, self._done = when, []
            self._done.append((strategy, symbol))

    def evaluated_before_restart(self, strategy: str, symbol: str) -> datetime | None:
        return self._done_before_restart.get((strategy, symbol))

    def _save_fill(self, strategy: str, symbol: str, when: datetime) -> None:
        """Inside the fill's transaction: the coordinator, and who is done with this bar time."""
        self.save_snapshot(when)
        with self._lock:
            done = [*(self._done if self._bar == when else []), (strategy, symbol)]
        self._store.daily.save_snapshot(EVALUATED_SNAPSHOT, trading_day(when), {
            "close_time": when.isoformat(), "instruments": [list(k) for k in done]})

    def opened(self, position: Position) -> None:
        with self._store.transaction() as st:
            st.positions.open(
                position.strategy, position.symbol, quantity=position.quantity, entry_time=position.entry_time,
                entry_price=repr(position.entry_price), signal_id=position.entry_intent_id,
                entry_atr=None if not math.isfinite(position.atr) else repr(position.atr),
                ml_score=position.ml_score,
                extra={"stop": _opt(position.stop), "target": _opt(position.target), "features": position.features,
                       "ticker": position.ticker})
            self._save_fill(position.strategy, position.symbol, position.entry_time)

    def closed(self, trade: ClosedTrade) -> None:
        with self._store.transaction() as st:
            st.record_exit(strategy=trade.strategy, symbol=trade.symbol, exit_time=trade.exit_time,
                           exit_price=repr(trade.exit_price), pnl_cents=to_cents(Decimal(repr(trade.pnl))),
                           exit_reason=trade.exit_reason, exit_intent_id=trade.exit_intent_id,
                           trading_day=trading_day(trade.exit_time), features=trade.features)
            self._save_fill(trade.strategy, trade.symbol, trade.exit_time)

    def open_positions(self, strategy: str) -> list[Position]:
        out = []
        for p in self._store.positions.all(strategy):
            extra = p.extra or {}
            out.append(Position(
                strategy=p.strategy, symbol=p.symbol, quantity=p.quantity, entry_price=float(p.entry_price),
                entry_time=p.entry_time, entry_intent_id=p.signal_id, stop=_num(extra.get("stop")),
                target=_num(extra.get("target")), atr=_num(p.entry_atr), ml_score=p.ml_score,
                bars_held=-1, features=dict(extra.get("features") or {}), ticker=str(extra.get("ticker") or "")))
        return out

    def last_exit_time(self, strategy: str, symbol: str) -> datetime | None:
        return self._store.journal.last_exit_time(strategy, symbol)

    def trades(self) -> list[ClosedTrade]:
        return [ClosedTrade(t.strategy, t.symbol, t.quantity, t.entry_time, float(t.entry_price), t.exit_time,
                            float(t.exit_price), t.pnl_cents / 100.0, t.exit_reason, t.ml_score,
                            t.entry_intent_id, t.exit_intent_id, dict(t.features or {}))
                for t in self._store.journal.all()]
