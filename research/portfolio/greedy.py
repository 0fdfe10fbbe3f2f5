"""Greedy portfolio search: which (strategy, symbol) pairs, how many positions, which daily stop.

For every point of the limits grid (``max_positions`` x ``daily_stop_loss``):

1. forward selection from the empty portfolio: each step evaluates adding every pair not yet
   in it and keeps the addition that scores best, while that beats the current portfolio;
2. backward elimination from there: each step evaluates removing every pair and drops the one
   whose removal scores best, while that beats the current portfolio.

A portfolio counts only if it meets the constraints (max drawdown strictly below a dollar
limit, at most so many breach events beyond a dollar level); one that does not, or whose
objective is undefined, never wins a step. Ties go to the pair earlier in the universe's order.
The best grid point's portfolio is the answer. Everything is scored on the training period
only; every step is also scored on the test period, so the report can show how much of the
in-sample gain is selection. ``trials`` counts the distinct portfolios scored in-sample (the
Deflated Sharpe's number of trials): a max_positions that cannot bind (at least the number of
symbols of every strategy in the portfolio) gives the same portfolio as a smaller one that
cannot either, so it is one trial, simulated once.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum

import numpy as np
from multialpha.research.portfolio import kernels
from multialpha.research.portfolio.fast import TRADING_DAYS_PER_YEAR, FastSimulator
from multialpha.research.portfolio.plan import Period, PortfolioPlan

Pair = tuple[str, str]


class Objective(StrEnum):
    SHARPE = "sharpe"
    SORTINO = "sortino"
    CAGR = "cagr"
    NET_PNL = "net_pnl"

    @property
    def column(self) -> int:
        return {Objective.SHARPE: kernels.SHARPE, Objective.SORTINO: kernels.SORTINO,
                Objective.CAGR: kernels.CAGR, Objective.NET_PNL: kernels.NET}[self]


@dataclass(frozen=True)
class Constraints:
    """What the broker allows: max drawdown strictly below ``max_drawdown_usd``; at most
    ``max_breach_events`` drawdown episodes deeper than ``breach_level_usd``."""

    max_drawdown_usd: float | None = 9000.0
    breach_level_usd: float = 6000.0
    max_breach_events: int | None = 2

    def met(self, table: np.ndarray) -> np.ndarray:
        ok = np.ones(table.shape[0], dtype=bool)
        if self.max_drawdown_usd is not None:
            ok &= table[:, kernels.MAX_DD_USD] < self.max_drawdown_usd
        if self.max_breach_events is not None:
            ok &= table[:, kernels.BREACHES] <= self.max_breach_events
        return ok


@dataclass(frozen=True)
class SearchSettings:
    max_positions: tuple[int, ...] = tuple(range(1, 11))
    daily_stop_loss: tuple[float, ...] = ()  # empty: each strategy keeps the universe's own stop
    objective: Objective = Objective.SHARPE
    constraints: Constraints = field(default_factory=Constraints)
    starting_capital_usd: float = 100_000.0


SCORE_NAMES = ("sharpe", "sortino", "net_pnl_usd", "cagr", "max_drawdown_usd", "max_drawdown_fraction",
               "breach_events", "trades", "daily_stops")


def score_dict(row: np.ndarray) -> dict[str, float | None]:
    return {name: (float(v) if math.isfinite(v) else None) for name, v in zip(SCORE_NAMES, row, strict=True)}


@dataclass(frozen=True)
class Step:
    """One greedy step: the change kept, the portfolio after it and its scores."""

    max_positions: int
    daily_stop_loss: float | None
    action: str  # "add" or "remove"
    pair: Pair
    pairs: tuple[Pair, ...]  # the portfolio after the step, in universe order
    evaluated: int  # portfolios scored to choose this step
    in_sample: dict[str, float | None]
    out_of_sample: dict[str, float | None] | None


@dataclass(frozen=True)
class GridResult:
    max_positions: int
    daily_stop_loss: float | None
    pairs: tuple[Pair, ...]
    objective: float  # -inf when no portfolio met the constraints


@dataclass(frozen=True)
class SearchResult:
    best: GridResult
    grid: tuple[GridResult, ...]
    path: tuple[Step, ...]
    trials: int
    trials_daily_sharpe_variance: float  # of the trials' per-day Sharpe ratios (for the DSR)


class GreedySearch:
    """Forward selection then backward elimination over a ``FastSimulator``'s universe."""

    def __init__(self, simulator: FastSimulator, settings: SearchSettings, *, train: Period,
                 test: Period | None = None) -> None:
        if not settings.max_positions:
            raise ValueError("max_positions grid is empty")
        self.sim, self.settings, self.train, self.test = simulator, settings, train, test
        self.pairs: list[Pair] = simulator.pairs
        # Every distinct portfolio scored in sample, with its scores. A max_positions at least as
        # large as a strategy's symbol count never binds, so a portfolio is keyed by its pairs, the
        # limit capped at the largest strategy's count, and the stop: the same simulation under
        # another nominal limit is the same trial and is not run again.
        self._seen: dict[tuple[bytes, int, float | None], np.ndarray] = {}
        self._strategy_of = np.array([self.sim.strategy_names.index(st) for st, _ in self.pairs], dtype=np.int64)

    def _limits(self, m: int, stop: float | None) -> dict[str, tuple[int | None, float | None]]:
        own = {s.name: s.daily_stop_loss for s in self.sim.universe.strategies}
        return {name: (m, own[name] if stop is None else stop) for name in self.sim.strategy_names}

    def _score(self, masks: np.ndarray, m: int, stop: float | None, period: Period) -> np.ndarray:
        s = self.settings
        return self.sim.score(masks, self._limits(m, stop), period=period,
                              starting_capital_usd=s.starting_capital_usd,
                              breach_level_usd=s.constraints.breach_level_usd).table

    def _objective(self, table: np.ndarray) -> np.ndarray:
        values = table[:, self.settings.objective.column].copy()
        values[~np.isfinite(values) | ~self.settings.constraints.met(table)] = -np.inf
        return values

    def _key(self, mask: np.ndarray, m: int, stop: float | None) -> tuple[bytes, int, float | None]:
        largest = int(np.bincount(self._strategy_of[mask], minlength=1).max())
        return np.packbits(mask).tobytes(), min(m, largest), stop

    def _train_scores(self, masks: np.ndarray, m: int, stop: float | None) -> np.ndarray:
        """In-sample scores of each mask, simulating only portfolios not scored before."""
        keys = [self._key(mask, m, stop) for mask in masks]
        new = [i for i, k in enumerate(keys) if k not in self._seen]
        if new:
            table = self._score(masks[new], m, stop, self.train)
            for i, row in zip(new, table, strict=True):
                self._seen[keys[i]] = row
        return np.array([self._seen[k] for k in keys])

    def _masks(self, selections: Sequence[Sequence[Pair]]) -> np.ndarray:
        return self.sim.pair_masks(selections)

    def _ordered(self, chosen: set[Pair]) -> tuple[Pair, ...]:
        return tuple(p for p in self.pairs if p in chosen)

    def _step(self, chosen: set[Pair], trials: list[set[Pair]], m: int, stop: float | None,
              current: float) -> tuple[int, np.ndarray] | None:
        masks = self._masks([self._ordered(t) for t in trials])
        table = self._train_scores(masks, m, stop)
        values = self._objective(table)
        best = int(np.argmax(values))  # first of equals: the universe's order
        if not values[best] > current:
            return None
        return best, table[best]

    def _run_point(self, m: int, stop: float | None) -> tuple[GridResult, list[Step]]:
        chosen: set[Pair] = set()
        current = -math.inf
        steps: list[Step] = []
        for action in ("add", "remove"):
            while True:
                options = [p for p in self.pairs if (p not in chosen) == (action == "add")]
                if action == "remove" and len(chosen) <= 1 or not options:
                    break
                trials = [chosen | {p} if action == "add" else chosen - {p} for p in options]
                found = self._step(chosen, trials, m, stop, current)
                if found is None:
                    break
                i, row = found
                chosen = trials[i]
                current = float(self._objective(row[None, :])[0])
                steps.append(Step(m, stop, action, options[i], self._ordered(chosen), len(trials),
                                  score_dict(row), None))
        return GridResult(m, stop, self._ordered(chosen), current), steps

    def run(self) -> SearchResult:
        s = self.settings
        stops: tuple[float | None, ...] = s.daily_stop_loss or (None,)
        grid, path = [], []
        for stop in stops:
            for m in s.max_positions:
                point, steps = self._run_point(m, stop)
                grid.append(point)
                path.extend(steps)
        if self.test is not None and path:
            path = self._out_of_sample(path)
        best = max(grid, key=lambda g: g.objective)  # first of equals: the grid's order
        daily_sharpes = np.array([row[kernels.SHARPE] for row in self._seen.values()]) / math.sqrt(TRADING_DAYS_PER_YEAR)
        sharpes = daily_sharpes[np.isfinite(daily_sharpes)]
        variance = float(sharpes.var(ddof=1)) if sharpes.shape[0] > 1 else 0.0
        return SearchResult(best, tuple(grid), tuple(path), len(self._seen), variance)

    def _out_of_sample(self, path: list[Step]) -> list[Step]:
        assert self.test is not None
        out: list[Step] = []
        groups: dict[tuple[int, float | None], list[int]] = {}
        for i, step in enumerate(path):
            groups.setdefault((step.max_positions, step.daily_stop_loss), []).append(i)
        scored: dict[int, dict[str, float | None]] = {}
        for (m, stop), idx in groups.items():
            table = self._score(self._masks([path[i].pairs for i in idx]), m, stop, self.test)
            scored.update({i: score_dict(row) for i, row in zip(idx, table, strict=True)})
        for i, step in enumerate(path):
            out.append(Step(step.max_positions, step.daily_stop_loss, step.action, step.pair, step.pairs,
                            step.evaluated, step.in_sample, scored[i]))
        return out

    def plan(self, result: GridResult) -> PortfolioPlan:
        """The universe narrowed to a grid point's pairs, with its limits."""
        chosen = set(result.pairs)
        plan = self.sim.universe.selecting(chosen)
        limits = self._limits(result.max_positions, result.daily_stop_loss)
        return replace(plan, strategies=tuple(replace(st, max_positions=limits[st.name][0],
                                                      daily_stop_loss=limits[st.name][1])
                                              for st in plan.strategies))
