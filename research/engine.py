"""The research engine: the daemon's own ``InstrumentStep`` driven over whole bar arrays.

Research never re-implements the decision sequence. It feeds the step bar by bar with ports
that fit a batch run: a recording order port (every order "delivered"), an in-memory ledger,
a gate (a permissive one for extraction, the real ``PortfolioCoordinator`` for simulations)
and a market view over precomputed arrays of the one feature engine (``compute_features`` and
``atr_series`` run the same compiled update the live engines run, bit for bit).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np

from multialpha.contracts import ContractSpec
from multialpha.domain import ClosedTrade, Decision, OrderIntent, OrderStatus, Position
from multialpha.features import Reference, compute_features, trading_day_ids
from multialpha.features.bars import BarArrays
from multialpha.features.daily import exchange_minutes
from multialpha.strategy.alpha import AlphaSpec, BarEvent
from multialpha.strategy.indicators import atr_series
from multialpha.strategy.ports import Gate, ModelFilter
from multialpha.strategy.step import InstrumentStep
from multialpha.strategy.tickers import ContinuousTicker, Tickers

_EPOCH = date(1970, 1, 1)


class RecordingOrders:
    """Order port of a batch run: records every intent and reports it delivered."""

    def __init__(self) -> None:
        self.intents: list[OrderIntent] = []

    def submit(self, intent: OrderIntent, *, arrival_ns: int | None = None) -> OrderStatus:
        self.intents.append(intent)
        return OrderStatus.SENT

    def committed(self, intent_id: str) -> None:
        pass


class MemoryLedger:
    """Ledger port of a batch run: positions and closed trades in memory."""

    def __init__(self) -> None:
        self.positions: dict[tuple[str, str], Position] = {}
        self.closed_trades: list[ClosedTrade] = []

    def opened(self, position: Position) -> None:
        self.positions[(position.strategy, position.symbol)] = position

    def voided(self, strategy: str, symbol: str) -> None:
        self.positions.pop((strategy, symbol), None)

    def atomic(self) -> AbstractContextManager[object]:
        return nullcontext()

    def closed(self, trade: ClosedTrade) -> None:
        self.positions.pop((trade.strategy, trade.symbol), None)
        self.closed_trades.append(trade)

    def open_positions(self, strategy: str) -> list[Position]:
        return [p for (s, _), p in self.positions.items() if s == strategy]

    def last_exit_time(self, strategy: str, symbol: str) -> datetime | None:
        return None

    def evaluated(self, strategy: str, symbol: str, when: datetime) -> None:
        pass

    def evaluated_before_restart(self, strategy: str, symbol: str) -> datetime | None:
        return None


class OpenGate:
    """Gate with the portfolio limits off: every entry allowed, P&L from the contract spec."""

    def __init__(self, contracts: Mapping[str, ContractSpec]) -> None:
        self._contracts = contracts
        self._open: dict[tuple[str, str], tuple[float, int]] = {}

    def can_open(self, strategy: str, symbol: str, now: datetime) -> Decision:
        return Decision(True, None, strategy, symbol, now)

    def release(self, strategy: str, symbol: str) -> None:
        pass

    def on_opened(self, strategy: str, symbol: str, *, price: float, quantity: int, when: datetime) -> None:
        self._open[(strategy, symbol)] = (price, quantity)

    def mark(self, strategy: str, symbol: str, price: float, when: datetime) -> None:
        pass

    def on_closed(self, strategy: str, symbol: str, *, price: float, when: datetime, reason: str) -> float:
        entry, quantity = self._open.pop((strategy, symbol))
        return self._contracts[symbol].net_pnl(entry, price, quantity)

    def flatten_reason(self, strategy: str) -> str | None:
        return None

    def void(self, strategy: str, symbol: str) -> None:
        self._open.pop((strategy, symbol), None)


class ArrayMarket:
    """Market view over precomputed arrays; ``at`` moves it to a bar index."""

    def __init__(self, atr: np.ndarray, features: np.ndarray | None, names: Sequence[str],
                 close_ts: np.ndarray) -> None:
        self._atr, self._features, self._close_ts = atr, features, close_ts
        self._cols = {n: i for i, n in enumerate(names)}
        self.i = -1

    def row(self, names: Sequence[str]) -> np.ndarray:
        if self._features is None:
            return np.full(len(names), np.nan)
        return self._features[self.i, [self._cols[n] for n in names]]

    def atr(self) -> float:
        return float(self._atr[self.i])

    def bars_since(self, when: datetime) -> int:
        ns = int(when.timestamp()) * 1_000_000_000
        return int(np.count_nonzero(self._close_ts[: self.i + 1] > ns))


@dataclass(frozen=True)
class BarTimes:
    """Per-bar decision context computed once per series: close times, trade dates, minutes."""

    close_time: list[datetime]
    trading_day: list[date]
    close_minute: np.ndarray

    @classmethod
    def of(cls, bars: BarArrays) -> BarTimes:
        closes = bars.close_ts
        days = trading_day_ids(closes)
        base = datetime(1970, 1, 1, tzinfo=UTC)
        return cls([base + timedelta(microseconds=int(t) // 1000) for t in closes],
                   [_EPOCH + timedelta(days=int(d)) for d in days], exchange_minutes(closes))


@dataclass
class InstrumentRun:
    """What one step did over a bar series."""

    trades: list[ClosedTrade]
    intents: list[OrderIntent]
    entry_index: list[int]  # bar index of each trade's entry, in trade order
    exit_index: list[int]
    open_position: Position | None  # still open when the bars ran out
    stats: dict[str, Any] = field(default_factory=dict)


def run_instrument(bars: BarArrays, spec: AlphaSpec, params: Any, contract: ContractSpec, *,
                   strategy: str = "research", model: ModelFilter | None = None,
                   refs: Mapping[str, Reference] | None = None, gate: Gate | None = None,
                   first_bar: int = 0, times: BarTimes | None = None,
                   tickers: Tickers | None = None) -> InstrumentRun:
    """Drive one ``InstrumentStep`` over ``bars``; bars before ``first_bar`` are warm-up.

    ``tickers``: the contract months orders name and when positions roll, as the daemon does
    with ``RollTickers(load_rolls(...), symbol)``; by default one continuous name and no rolls.

    With ``model`` the step filters entries exactly as the daemon does (features from the one
    engine at the signal bar); without it every signal goes to the gate. ``gate`` defaults to
    ``OpenGate`` (portfolio limits off).
    """
    names = tuple(model.features) if model is not None else ()
    features = compute_features(bars, names, refs) if names else None
    market = ArrayMarket(atr_series(bars), features, names, bars.close_ts)
    orders, ledger = RecordingOrders(), MemoryLedger()
    step = InstrumentStep(strategy=strategy, symbol=bars.symbol,
                          tickers=tickers if tickers is not None else ContinuousTicker(bars.symbol),
                          alpha=spec.build(params, contract), contract=contract,
                          gate=gate if gate is not None else OpenGate({bars.symbol: contract}),
                          orders=orders, ledger=ledger, market=market, model=model,
                          entry_reason=f"{spec.name}_entry")
    t = times if times is not None else BarTimes.of(bars)
    o, h, lo, c, v = (bars.open.tolist(), bars.high.tolist(), bars.low.tolist(), bars.close.tolist(),
                      bars.volume.tolist())
    minutes = t.close_minute.tolist()
    entries: list[int] = []
    exits: list[int] = []
    for i in range(len(bars)):
        market.i = i
        had = step.position
        step.on_bar(BarEvent(t.close_time[i], t.trading_day[i], minutes[i], o[i], h[i], lo[i], c[i], v[i],
                             i < first_bar))
        now = step.position
        if had is not None and now is not had:
            exits.append(i)
        if now is not None and now is not had:
            entries.append(i)
    return InstrumentRun(ledger.closed_trades, orders.intents, entries[:len(ledger.closed_trades)], exits,
                         step.position, step.stats.as_dict())
