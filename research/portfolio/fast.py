"""The fast portfolio simulator: the universe of a search as arrays, evaluated by a compiled loop.

``FastSimulator`` lays out, once, every bar close of every symbol on one timeline and every
candidate of every (strategy, symbol) as row numbers, then runs ``kernels.simulate_kernel`` for
each portfolio asked for: the exact simulator's decisions (the daemon's step and coordinator),
in the same order, in compiled code on integer micro-dollars. ``simulate`` returns the same
``SimulationResult`` as ``simulate_exact`` (the tests hold them identical); ``score`` evaluates
many portfolios at once, in parallel, returning only their figures.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from multialpha.research.portfolio import kernels
from multialpha.research.portfolio.candidates import OPEN_NS
from multialpha.research.portfolio.plan import WHOLE, Period, PortfolioInputs, PortfolioPlan
from multialpha.research.portfolio.result import (
    DAILY_STOP,
    SimulationResult,
    daily_series,
    open_frame,
    positions_series,
    stops_frame,
    trades_frame,
)

from multialpha.portfolio import ACCOUNT

TRADING_DAYS_PER_YEAR = 252
_NONE = -1


@dataclass(frozen=True)
class Scores:
    """Figures of many portfolios at once; each array has one value per portfolio."""

    table: np.ndarray  # (n, kernels.N_SCORES)

    def __getitem__(self, column: int) -> np.ndarray:
        return self.table[:, column]


class FastSimulator:
    """Every (strategy, symbol) of ``universe`` compiled once; portfolios are subsets of it.

    The universe's order is the evaluation order (the tie rule); a portfolio keeps it.
    """

    def __init__(self, inputs: PortfolioInputs, universe: PortfolioPlan) -> None:
        inputs.check_plan(universe)
        self.inputs, self.universe = inputs, universe
        self.pairs: list[tuple[str, str]] = universe.pairs()
        tl = inputs.timeline
        _, dense = np.unique(tl.day_id, return_inverse=True)
        self._day_idx = dense.astype(np.int64)
        self.symbols = sorted({sym for _, sym in self.pairs})
        sym_index = {s: i for i, s in enumerate(self.symbols)}
        self._close = np.full((len(tl.close_ns), len(self.symbols)), np.nan)  # one bar time's closes together
        for s, i in sym_index.items():
            bars = inputs.bars[s]
            self._close[np.searchsorted(tl.close_ns, bars.close_ts), i] = bars.close
        self.strategy_names = [s.name for s in universe.strategies]
        strat_index = {n: i for i, n in enumerate(self.strategy_names)}
        labels = sorted({s.account for s in universe.strategies if s.account is not None})
        self._strat_account = np.array([_NONE if s.account is None else labels.index(s.account)
                                        for s in universe.strategies], dtype=np.int64)
        self._inst_sym = np.array([sym_index[sym] for _, sym in self.pairs], dtype=np.int64)
        self._inst_strat = np.array([strat_index[st] for st, _ in self.pairs], dtype=np.int64)
        self.reasons: list[str] = [DAILY_STOP]
        starts, entry_rows, exit_rows, codes, pvq, comm = [0], [], [], [], [], []
        big = len(tl.close_ns) + 1
        for pair in self.pairs:
            c = inputs.candidates[pair]
            contract = inputs.contracts[pair[1]]
            rows = np.searchsorted(tl.close_ns, c.entry_ns)
            if np.any(tl.close_ns[np.minimum(rows, len(tl.close_ns) - 1)] != c.entry_ns):
                raise ValueError(f"{pair[0]} {pair[1]}: a candidate enters at a time with no bar")
            ends = np.where(c.exit_ns == OPEN_NS, big, np.searchsorted(tl.close_ns, np.minimum(c.exit_ns, OPEN_NS - 1)))
            for r in c.exit_reason:
                if r not in self.reasons:
                    self.reasons.append(r)
            entry_rows.append(rows)
            exit_rows.append(ends)
            codes.append(np.array([self.reasons.index(r) for r in c.exit_reason], dtype=np.int64))
            starts.append(starts[-1] + len(c))
            pvq.append(contract.point_value * c.quantity * kernels.MICRO)
            comm.append(round(contract.commission_per_side * abs(c.quantity) * kernels.MICRO))
        self._c_start = np.array(starts, dtype=np.int64)
        self._c_entry_row = np.concatenate(entry_rows).astype(np.int64) if entry_rows else np.zeros(0, np.int64)
        self._c_exit_row = np.concatenate(exit_rows).astype(np.int64) if exit_rows else np.zeros(0, np.int64)
        self._c_reason = np.concatenate(codes) if codes else np.zeros(0, np.int64)
        # candidates by entry row, in instrument (evaluation) order within a row
        self._c_inst = np.repeat(np.arange(len(self.pairs), dtype=np.int64), np.diff(self._c_start))
        self._row_cand = np.lexsort((self._c_inst, self._c_entry_row)).astype(np.int64)
        self._row_start = np.searchsorted(self._c_entry_row[self._row_cand], np.arange(len(tl.close_ns) + 1)).astype(np.int64)
        self._pvq = np.array(pvq, dtype=np.float64)
        self._comm = np.array(comm, dtype=np.int64)

    # -- what a portfolio is, as arrays ------------------------------------------------------------
    def mask(self, plan: PortfolioPlan) -> np.ndarray:
        """Which instruments of the universe ``plan`` trades; its order must be the universe's."""
        index = {p: i for i, p in enumerate(self.pairs)}
        wanted = plan.pairs()
        unknown = [f"{s} {sym}" for s, sym in wanted if (s, sym) not in index]
        if unknown:
            raise ValueError(f"not in the search universe: {', '.join(unknown)}")
        positions = [index[p] for p in wanted]
        if positions != sorted(positions):
            raise ValueError("the plan orders its symbols differently from the universe (the tie rule "
                             "depends on that order)")
        for s in plan.strategies:
            own = next(u for u in self.universe.strategies if u.name == s.name)
            if own.account != s.account:
                raise ValueError(f"{s.name}: account {s.account!r} differs from the universe's {own.account!r}")
        out = np.zeros(len(self.pairs), dtype=np.bool_)
        out[positions] = True
        return out

    def _limits(self, per_strategy: Mapping[str, tuple[int | None, float | None]]) -> tuple[np.ndarray, np.ndarray]:
        max_pos = np.full(len(self.strategy_names) + 1, _NONE, dtype=np.int64)
        stop_u = np.full(len(self.strategy_names) + 1, _NONE, dtype=np.int64)
        for i, name in enumerate(self.strategy_names):
            m, stop = per_strategy.get(name, (None, None))
            max_pos[i] = _NONE if m is None else m
            stop_u[i] = _NONE if stop is None else round(stop * kernels.MICRO)
        u = self.universe
        max_pos[-1] = _NONE if u.account_max_positions is None else u.account_max_positions
        stop_u[-1] = _NONE if u.account_daily_stop_loss is None else round(u.account_daily_stop_loss * kernels.MICRO)
        return max_pos, stop_u

    def _period(self, period: Period) -> tuple[int, int, int]:
        lo, hi = self.inputs.timeline.rows(period)
        if hi <= lo:
            raise ValueError(f"no bars in the period {period.label()}")
        return lo, hi, int(self._day_idx[hi - 1] - self._day_idx[lo] + 1)

    # -- one portfolio, every fill -----------------------------------------------------------------
    def simulate(self, plan: PortfolioPlan, period: Period = WHOLE) -> SimulationResult:
        """``plan`` over ``period``: the same result as ``simulate_exact``."""
        active = self.mask(plan)
        if (plan.account_max_positions, plan.account_daily_stop_loss) != (
                self.universe.account_max_positions, self.universe.account_daily_stop_loss):
            raise ValueError("the plan's account limits differ from the universe's")
        max_pos, stop_u = self._limits({s.name: (s.max_positions, s.daily_stop_loss) for s in plan.strategies})
        lo, hi, n_days = self._period(period)
        n_cand = int(self._c_start[-1])
        daily = np.zeros(n_days, dtype=np.int64)
        t_inst, t_cand, t_exit_row, t_pnl, t_reason = (np.zeros(n_cand, dtype=np.int64) for _ in range(5))
        t_exit_px = np.zeros(n_cand)
        n_stop_max = 2 * (len(self.strategy_names) + 1) * n_days + 1
        s_day, s_scope, s_row = (np.zeros(n_stop_max, dtype=np.int64) for _ in range(3))
        pos_count = np.zeros(hi - lo, dtype=np.int64)
        open_cand = np.full(len(self.pairs), -1, dtype=np.int64)
        counters = kernels.simulate_kernel(
            lo, hi, self._day_idx, self._close, self._inst_sym, self._inst_strat, active, self._strat_account,
            max_pos, stop_u, self._c_inst, self._row_start, self._row_cand, self._c_exit_row, self._c_reason, self._pvq,
            self._comm, 0, daily, True, t_inst, t_cand, t_exit_row, t_exit_px, t_pnl, t_reason, s_day, s_scope,
            s_row, pos_count, open_cand)
        tl = self.inputs.timeline
        rows = []
        for i in range(int(counters[0])):
            k, c = int(t_inst[i]), int(t_cand[i])
            strategy, symbol = self.pairs[k]
            cand = self.inputs.candidates[(strategy, symbol)]
            j = c - int(self._c_start[k])
            rows.append((strategy, symbol, int(cand.entry_ns[j]), int(tl.close_ns[t_exit_row[i]]),
                         float(cand.entry_price[j]), float(t_exit_px[i]), cand.quantity,
                         int(t_pnl[i]) / kernels.MICRO, self.reasons[int(t_reason[i])]))
        days = tl.trading_days(lo, hi)
        scopes = [*self.strategy_names, ACCOUNT]
        stops = [(days[int(s_day[i])], scopes[int(s_scope[i])], int(tl.close_ns[s_row[i]]))
                 for i in range(int(counters[1]))]
        still = []
        for held in np.nonzero(open_cand >= 0)[0].tolist():
            strategy, symbol = self.pairs[held]
            cand = self.inputs.candidates[(strategy, symbol)]
            j = int(open_cand[held]) - int(self._c_start[held])
            still.append((strategy, symbol, int(cand.entry_ns[j]), float(cand.entry_price[j]), cand.quantity))
        still.sort(key=lambda r: r[2])
        return SimulationResult(trades_frame(rows), daily_series(days, daily / kernels.MICRO), stops_frame(stops),
                                positions_series(tl.close_ns[lo:hi], pos_count), open_frame(still))

    # -- many portfolios, their figures only -------------------------------------------------------
    def score(self, masks: np.ndarray, limits: Mapping[str, tuple[int | None, float | None]], *,
              period: Period = WHOLE, starting_capital_usd: float, breach_level_usd: float) -> Scores:
        """Figures (``kernels.SHARPE`` ...) of each portfolio (a row of ``masks``), each strategy
        with its ``(max_positions, daily_stop_loss)`` from ``limits``."""
        masks = np.ascontiguousarray(np.atleast_2d(masks), dtype=np.bool_)
        max_pos, stop_u = self._limits(dict(limits))
        lo, hi, n_days = self._period(period)
        table = kernels.score_many(
            masks, lo, hi, n_days, self._day_idx, self._close, self._inst_sym, self._inst_strat,
            self._strat_account, max_pos, stop_u, self._c_inst, self._row_start, self._row_cand, self._c_exit_row,
            self._c_reason, self._pvq, self._comm, 0, float(starting_capital_usd), float(breach_level_usd),
            float(TRADING_DAYS_PER_YEAR))
        return Scores(table)

    def pair_masks(self, selections: Sequence[Sequence[tuple[str, str]]]) -> np.ndarray:
        """One mask row per selection of (strategy, symbol) pairs."""
        index = {p: i for i, p in enumerate(self.pairs)}
        out = np.zeros((len(selections), len(self.pairs)), dtype=np.bool_)
        for r, sel in enumerate(selections):
            out[r, [index[p] for p in sel]] = True
        return out
