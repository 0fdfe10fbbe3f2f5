"""Candidate trades of one (strategy, symbol): what the portfolio simulators choose from.

A candidate is a trade the instrument would take if the portfolio let it in: its entry bar
and price and, held to its own exit rules, its exit bar, price and reason. Two ways to get
them, both by driving the daemon's ``InstrumentStep`` (the research engine):

* ``signal_trades``: every bar at which the step, flat, would ask the coordinator for an
  entry (the entry rule and the ML filter said yes), each with the exit its rules would take
  from there. Candidates may overlap in time. Given these, the simulators take exactly the
  daemon's trades: a blocked entry is followed by the next signal, a trade flattened by a
  daily stop is followed by the next signal after it, as in the daemon.
* ``trades_from_run``: a finished trade list (``run_instrument(..., model=bundle)``), one
  trade after another. Blocking one of them does not bring in the signals it had hidden,
  the usual approximation of simulating on trade lists.

Times are bar close (decision) times in int64 ns UTC; prices are the bar closes the step
decided at. A candidate still open when the bars run out has no exit (``exit_ns`` is
``OPEN_NS``, the price NaN): the simulators keep it open and mark it to market.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from multialpha.research.engine import (
    ArrayMarket,
    BarTimes,
    InstrumentRun,
    MemoryLedger,
    OpenGate,
    RecordingOrders,
)

from multialpha.contracts import ContractSpec
from multialpha.domain import Decision, DenyReason
from multialpha.features import Reference, compute_features
from multialpha.features.bars import BarArrays
from multialpha.strategy.alpha import AlphaSpec, BarEvent
from multialpha.strategy.indicators import atr_series
from multialpha.strategy.ports import ModelFilter
from multialpha.strategy.step import InstrumentStep
from multialpha.strategy.tickers import ContinuousTicker, Tickers

OPEN_NS = np.iinfo(np.int64).max  # exit time of a candidate still open at the end of the bars
OPEN_REASON = "open"


@dataclass(frozen=True)
class CandidateTrades:
    """The candidate trades of one (strategy, symbol), in entry order (one per entry bar)."""

    strategy: str
    symbol: str
    quantity: int
    entry_ns: np.ndarray  # int64
    exit_ns: np.ndarray  # int64; OPEN_NS when the trade never exits
    entry_price: np.ndarray  # float64
    exit_price: np.ndarray  # float64; NaN when the trade never exits
    exit_reason: tuple[str, ...]

    def __post_init__(self) -> None:
        n = self.entry_ns.shape[0]
        where = f"{self.strategy} {self.symbol}"
        for name in ("exit_ns", "entry_price", "exit_price"):
            if getattr(self, name).shape != (n,):
                raise ValueError(f"{where}: {name} has {getattr(self, name).shape[0]} values for {n} entries")
        if len(self.exit_reason) != n:
            raise ValueError(f"{where}: exit_reason has {len(self.exit_reason)} values for {n} entries")
        if n and np.any(np.diff(self.entry_ns) <= 0):
            raise ValueError(f"{where}: candidates must be in entry order with one entry per bar")
        if np.any(self.exit_ns <= self.entry_ns):
            i = int(np.argmax(self.exit_ns <= self.entry_ns))
            raise ValueError(f"{where}: candidate {i} exits at or before its entry")
        if isinstance(self.quantity, bool) or not isinstance(self.quantity, int) or self.quantity < 1:
            raise ValueError(f"{where}: quantity must be a positive integer, got {self.quantity!r}")

    def __len__(self) -> int:
        return int(self.entry_ns.shape[0])

    def between(self, start_ns: int, end_ns: int) -> CandidateTrades:
        """The candidates entering in ``[start_ns, end_ns)``."""
        keep = (self.entry_ns >= start_ns) & (self.entry_ns < end_ns)
        idx = np.nonzero(keep)[0]
        return CandidateTrades(self.strategy, self.symbol, self.quantity, self.entry_ns[idx], self.exit_ns[idx],
                               self.entry_price[idx], self.exit_price[idx],
                               tuple(self.exit_reason[i] for i in idx))

    def net_pnl(self, contract: ContractSpec) -> np.ndarray:
        """Each candidate's net USD P&L held to its own exit (NaN for one that never exits)."""
        return ((self.exit_price - self.entry_price) * contract.point_value * self.quantity
                - contract.round_trip_commission(self.quantity))


def trades_from_run(run: InstrumentRun, bars: BarArrays, *, strategy: str, quantity: int) -> CandidateTrades:
    """A finished trade list (one trade after another) as candidates."""
    close_ts = bars.close_ts
    n = len(run.trades)
    entry_idx = np.asarray(run.entry_index[:n], dtype=np.int64)
    exit_idx = np.asarray(run.exit_index[:n], dtype=np.int64)
    return CandidateTrades(strategy, bars.symbol, quantity, close_ts[entry_idx], close_ts[exit_idx],
                           np.array([t.entry_price for t in run.trades], dtype=np.float64),
                           np.array([t.exit_price for t in run.trades], dtype=np.float64),
                           tuple(t.exit_reason for t in run.trades))


class _AskRecorder:
    """A gate that records every entry the step asks for and refuses it, so the step stays flat
    and every bar is a chance to ask."""

    def __init__(self) -> None:
        self.asked: list[datetime] = []

    def can_open(self, strategy: str, symbol: str, now: datetime) -> Decision:
        self.asked.append(now)
        return Decision(False, DenyReason.STRATEGY_MAX_POSITIONS, strategy, symbol, now)

    def release(self, strategy: str, symbol: str) -> None:
        pass

    def on_opened(self, strategy: str, symbol: str, *, price: float, quantity: int, when: datetime) -> None:
        raise AssertionError("an entry refused by the gate was opened")

    def mark(self, strategy: str, symbol: str, price: float, when: datetime) -> None:
        pass

    def on_closed(self, strategy: str, symbol: str, *, price: float, when: datetime, reason: str) -> float:
        raise AssertionError("no position can be open")

    def flatten_reason(self, strategy: str) -> str | None:
        return None


def signal_trades(bars: BarArrays, spec: AlphaSpec, params: Any, contract: ContractSpec, *, strategy: str,
                  model: ModelFilter | None = None, refs: Mapping[str, Reference] | None = None,
                  first_bar: int = 0, times: BarTimes | None = None,
                  tickers: Tickers | None = None) -> CandidateTrades:
    """Every entry the step would ask for while flat, from ``first_bar`` on, each held to its exit.

    First pass: the step runs over every bar with a gate that refuses every entry, so it
    stays flat and asks wherever the entry rule and the filter let a signal through. Second
    pass: from each of those bars, a fresh step with an open gate enters and is driven until
    its own exit rules close the trade. ``tickers`` are the daemon's contract months
    (``RollTickers``): no entry in a contract's last hour, and a position exits before the
    roll, as in the daemon; by default one continuous contract.
    """
    names_of = tickers if tickers is not None else ContinuousTicker(bars.symbol)
    t = times if times is not None else BarTimes.of(bars)
    names = tuple(model.features) if model is not None else ()
    features = compute_features(bars, names, refs) if names else None
    market = ArrayMarket(atr_series(bars), features, names, bars.close_ts)
    alpha = spec.build(params, contract)
    events = [BarEvent(t.close_time[i], t.trading_day[i], int(m), o, h, lo, c, v, i < first_bar)
              for i, (m, o, h, lo, c, v) in enumerate(zip(t.close_minute.tolist(), bars.open.tolist(),
                                                          bars.high.tolist(), bars.low.tolist(),
                                                          bars.close.tolist(), bars.volume.tolist(),
                                                          strict=True))]

    def step(gate: Any) -> InstrumentStep:
        return InstrumentStep(strategy=strategy, symbol=bars.symbol, tickers=names_of, alpha=alpha,
                              contract=contract, gate=gate, orders=RecordingOrders(), ledger=MemoryLedger(),
                              market=market, model=model, entry_reason=f"{spec.name}_entry")

    recorder = _AskRecorder()
    probe = step(recorder)
    for i, event in enumerate(events):
        market.i = i
        probe.on_bar(event)
    index_of = {when: i for i, when in enumerate(t.close_time)}
    close_ts = bars.close_ts
    n = len(recorder.asked)
    entry_ns, exit_ns = np.empty(n, dtype=np.int64), np.full(n, OPEN_NS, dtype=np.int64)
    entry_px, exit_px = np.empty(n), np.full(n, np.nan)
    reasons: list[str] = []
    gate = OpenGate({bars.symbol: contract})
    for k, when in enumerate(recorder.asked):
        i = index_of[when]
        trader = step(gate)
        market.i = i
        trader.on_bar(events[i])
        assert trader.position is not None, f"{bars.symbol}: the entry asked for at {when} did not open"
        entry_ns[k], entry_px[k] = close_ts[i], trader.position.entry_price
        ledger = trader.ledger
        assert isinstance(ledger, MemoryLedger)
        j = i
        while trader.position is not None and j + 1 < len(events):
            j += 1
            market.i = j
            trader.on_bar(events[j])
        if trader.position is None:
            closed = ledger.closed_trades[-1]
            exit_ns[k], exit_px[k] = close_ts[j], closed.exit_price
            reasons.append(closed.exit_reason)
        else:
            reasons.append(OPEN_REASON)
    quantity = int(params.quantity)
    return CandidateTrades(strategy, bars.symbol, quantity, entry_ns, exit_ns, entry_px, exit_px, tuple(reasons))
