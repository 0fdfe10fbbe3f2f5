"""What a portfolio simulation is asked to trade: its strategies, their symbols and limits, and
the data (bars, candidate trades, contract specs) it runs on."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date

import numpy as np
from multialpha.research.portfolio.candidates import CandidateTrades

from multialpha.contracts import ContractSpec
from multialpha.features import trading_day_ids
from multialpha.features.bars import BarArrays
from multialpha.portfolio import AccountLimits, StrategyLimits

_EPOCH = date(1970, 1, 1)


@dataclass(frozen=True)
class StrategyPlan:
    """One strategy as the coordinator sees it; ``symbols`` in the daemon's evaluation order."""

    name: str
    symbols: tuple[str, ...]
    max_positions: int | None = None
    daily_stop_loss: float | None = None  # USD
    account: str | None = "default"  # broker account: one position per symbol per account

    def limits(self) -> StrategyLimits:
        return StrategyLimits(self.name, frozenset(self.symbols), self.max_positions, self.daily_stop_loss,
                              self.account)


@dataclass(frozen=True)
class PortfolioPlan:
    """Strategies in the daemon's evaluation order (config-file order) and the account limits.

    Tie rule: at one bar time the daemon steps strategy after strategy in this order, and
    within a strategy symbol after symbol in its list's order; the first to ask the coordinator
    takes a free slot. The simulators step in the same order.
    """

    strategies: tuple[StrategyPlan, ...]
    account_max_positions: int | None = None
    account_daily_stop_loss: float | None = None

    def __post_init__(self) -> None:
        names = [s.name for s in self.strategies]
        if len(set(names)) != len(names):
            raise ValueError(f"a strategy appears twice in the plan: {names}")

    def pairs(self) -> list[tuple[str, str]]:
        """Every (strategy, symbol), in evaluation order."""
        return [(s.name, sym) for s in self.strategies for sym in s.symbols]

    def account_limits(self) -> AccountLimits:
        return AccountLimits(self.account_max_positions, self.account_daily_stop_loss)

    def with_limits(self, max_positions: int | None, daily_stop_loss: float | None) -> PortfolioPlan:
        """Every strategy with these limits."""
        return replace(self, strategies=tuple(replace(s, max_positions=max_positions,
                                                      daily_stop_loss=daily_stop_loss)
                                              for s in self.strategies))

    def selecting(self, pairs: set[tuple[str, str]]) -> PortfolioPlan:
        """Only these (strategy, symbol) pairs, order kept; a strategy left with none is dropped."""
        kept = (replace(s, symbols=tuple(sym for sym in s.symbols if (s.name, sym) in pairs))
                for s in self.strategies)
        return replace(self, strategies=tuple(s for s in kept if s.symbols))


@dataclass(frozen=True)
class Period:
    """Trade dates ``[start, end)``; None leaves that side open."""

    start: date | None = None
    end: date | None = None

    def label(self) -> str:
        return f"{self.start or '...'} to {self.end or '...'}"


WHOLE = Period()  # every bar of the data


@dataclass(frozen=True)
class Timeline:
    """Every bar close time of the data (all symbols together) and its CME trade date."""

    close_ns: np.ndarray  # int64, strictly increasing
    day_id: np.ndarray  # int32 days since 1970-01-01 of each bar time's trade date

    def rows(self, period: Period) -> tuple[int, int]:
        """The half-open row range of ``period``."""
        lo = 0 if period.start is None else int(np.searchsorted(self.day_id, (period.start - _EPOCH).days))
        hi = len(self.close_ns) if period.end is None else int(np.searchsorted(self.day_id,
                                                                                (period.end - _EPOCH).days))
        return lo, hi

    def trading_days(self, lo: int, hi: int) -> list[date]:
        """The trade dates of rows ``[lo, hi)``, in order."""
        from datetime import timedelta

        return [_EPOCH + timedelta(days=int(d)) for d in np.unique(self.day_id[lo:hi])]


@dataclass(frozen=True)
class PortfolioInputs:
    """Bars per symbol, candidates per (strategy, symbol) and the contract specs."""

    bars: Mapping[str, BarArrays]
    candidates: Mapping[tuple[str, str], CandidateTrades]
    contracts: Mapping[str, ContractSpec]
    timeline: Timeline = field(init=False)

    def __post_init__(self) -> None:
        for (strategy, symbol), c in self.candidates.items():
            if symbol not in self.bars:
                raise ValueError(f"{strategy} {symbol}: candidates without bars for {symbol}")
            if symbol not in self.contracts:
                raise ValueError(f"{strategy} {symbol}: no contract spec for {symbol}")
            if (c.strategy, c.symbol) != (strategy, symbol):
                raise ValueError(f"candidates of {c.strategy} {c.symbol} filed under {strategy} {symbol}")
        if not self.bars:
            raise ValueError("no bars")
        close = np.unique(np.concatenate([b.close_ts for b in self.bars.values()]))
        object.__setattr__(self, "timeline", Timeline(close, trading_day_ids(close).astype(np.int32)))

    def check_plan(self, plan: PortfolioPlan) -> None:
        missing = [f"{s} {sym}" for s, sym in plan.pairs() if (s, sym) not in self.candidates]
        if missing:
            raise ValueError(f"no candidate trades for {', '.join(missing)}")
