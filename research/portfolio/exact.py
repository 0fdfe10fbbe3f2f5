"""The exact portfolio simulator: candidate trades through the daemon's own step and coordinator.

Each (strategy, symbol) gets an ``InstrumentStep`` whose alpha replays its candidates, gated by
one ``PortfolioCoordinator`` built from the plan's limits, with a recording order port (every
order delivered) and an in-memory ledger. Bar times are driven as the daemon's hub drives them:

1. set the clock and roll the coordinator to the bar time's CME trade date;
2. step every instrument that has a bar at that time, strategies in plan order and, within a
   strategy, symbols in its order (so simultaneous entries are decided in that order);
3. the flatten sweep: every step, in the same order, exits now if a daily stop (its
   strategy's or the account's) has fired, at its symbol's last close.

So a daily stop, checked by the coordinator on realized plus unrealized P&L of the trade date
after every mark, entry and exit, flattens every position in its scope at that bar time's
close, and entries stay blocked for the rest of that trade date. Commissions come from the
contract specs. The daily P&L is the coordinator's own (``DAY_ROLLED`` events).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, datetime, timedelta

import numpy as np
from multialpha.research.engine import MemoryLedger, RecordingOrders
from multialpha.research.portfolio.candidates import CandidateTrades
from multialpha.research.portfolio.plan import WHOLE, Period, PortfolioInputs, PortfolioPlan
from multialpha.research.portfolio.replay import ReplayAlpha, ns_to_datetime
from multialpha.research.portfolio.result import (
    SimulationResult,
    daily_series,
    open_frame,
    positions_series,
    stops_frame,
    trades_frame,
)

from multialpha.calendar import next_trade_date, session_open
from multialpha.clock import ManualClock
from multialpha.features.daily import exchange_minutes
from multialpha.portfolio import ACCOUNT, CoordinatorEvent, EventKind, PortfolioCoordinator
from multialpha.strategy.alpha import BarEvent
from multialpha.strategy.step import InstrumentStep
from multialpha.strategy.tickers import ContinuousTicker

_EPOCH = date(1970, 1, 1)


class _NoMarket:
    """Market port of a replayed instrument: the replay alpha needs no feature and no ATR."""

    def row(self, names: Sequence[str]) -> np.ndarray:
        return np.full(len(names), np.nan)

    def atr(self) -> float:
        return math.nan

    def bars_since(self, when: datetime) -> int:
        return 0


class _Events:
    def __init__(self) -> None:
        self.daily: dict[date, float] = {}
        self.stops: list[tuple[date, str, int]] = []

    def __call__(self, event: CoordinatorEvent) -> None:
        if event.kind is EventKind.DAY_ROLLED:
            self.daily[date.fromisoformat(event.data["previous_day"])] = event.data["pnl"][ACCOUNT]["total"]
        elif event.kind is EventKind.DAILY_STOP_HIT:
            at = event.at
            self.stops.append((event.trading_day, str(event.scope),
                               int(at.timestamp()) * 1_000_000_000 + at.microsecond * 1000))


def simulate_exact(inputs: PortfolioInputs, plan: PortfolioPlan, period: Period = WHOLE) -> SimulationResult:
    """Trade ``plan`` over ``period`` (candidates entering inside it); see the module docstring."""
    inputs.check_plan(plan)
    timeline = inputs.timeline
    lo, hi = timeline.rows(period)
    days = timeline.trading_days(lo, hi)
    if hi <= lo:
        raise ValueError(f"no bars in the period {period.label()}")
    start_ns, end_ns = int(timeline.close_ns[lo]), int(timeline.close_ns[hi - 1]) + 1
    clock = ManualClock(ns_to_datetime(start_ns))
    events = _Events()
    coordinator = PortfolioCoordinator([s.limits() for s in plan.strategies], plan.account_limits(),
                                       inputs.contracts, clock, on_event=events)
    ledger, orders = MemoryLedger(), RecordingOrders()
    steps: list[InstrumentStep] = []
    by_time: dict[int, list[tuple[InstrumentStep, BarEvent]]] = {}
    for strategy, symbol in plan.pairs():
        candidates: CandidateTrades = inputs.candidates[(strategy, symbol)].between(start_ns, end_ns)
        contract = inputs.contracts[symbol]
        # Contract rolls are in the candidates already (their exits, their missing entries).
        step = InstrumentStep(strategy=strategy, symbol=symbol, tickers=ContinuousTicker(symbol),
                              alpha=ReplayAlpha(candidates),
                              contract=contract, gate=coordinator, orders=orders, ledger=ledger,
                              market=_NoMarket(), entry_reason="entry")
        steps.append(step)
        bars = inputs.bars[symbol]
        close_ts = bars.close_ts
        inside = np.nonzero((close_ts >= start_ns) & (close_ts < end_ns))[0]
        minutes = exchange_minutes(close_ts[inside]).tolist()
        day_ids = np.searchsorted(timeline.close_ns, close_ts[inside])
        for j, i in enumerate(inside.tolist()):
            ts = int(close_ts[i])
            by_time.setdefault(ts, []).append((step, BarEvent(
                ns_to_datetime(ts), _EPOCH + timedelta(days=int(timeline.day_id[day_ids[j]])), int(minutes[j]),
                float(bars.open[i]), float(bars.high[i]), float(bars.low[i]), float(bars.close[i]),
                float(bars.volume[i]))))
    # Steps are appended in plan order, so each bar time's list is already in evaluation order.
    open_counts = np.zeros(hi - lo, dtype=np.int64)
    for row in range(lo, hi):
        ts = int(timeline.close_ns[row])
        when = ns_to_datetime(ts)
        clock.set(when)
        coordinator.roll(when)
        for step, bar in by_time.get(ts, ()):
            step.on_bar(bar)
        for step in steps:
            step.sweep(when)
        open_counts[row - lo] = len(ledger.positions)
    coordinator.roll(session_open(next_trade_date(days[-1] + timedelta(days=1))))  # book the last day
    trades = trades_frame([(t.strategy, t.symbol, _ns(t.entry_time), _ns(t.exit_time), t.entry_price,
                            t.exit_price, t.quantity, t.pnl, t.exit_reason) for t in ledger.closed_trades])
    still_open = open_frame([(p.strategy, p.symbol, _ns(p.entry_time), p.entry_price, p.quantity)
                             for p in ledger.positions.values()])
    daily = daily_series(days, [events.daily.get(d, 0.0) for d in days])
    return SimulationResult(trades, daily, stops_frame(events.stops),
                            positions_series(timeline.close_ns[lo:hi], open_counts), still_open)


def _ns(when: datetime) -> int:
    return int(when.timestamp()) * 1_000_000_000 + when.microsecond * 1000
