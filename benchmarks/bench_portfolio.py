"""Greedy portfolio search: the compiled simulator against a plain event loop, same inputs.

Inputs: two years of hourly sample bars for the 18 tradeable sample symbols, and every IBS
signal of each (the repository config's ``ibs_a`` parameters, ML filter off) held to its own
exit: the candidate trades. The search: forward selection then backward elimination over the
18 symbols for each max_positions in 1..10, objective Sharpe, max drawdown < 9,000 USD and at
most 2 drawdowns beyond 6,000 USD, in sample before 2024-07-01, every step also scored after.

Baseline, measured in the same run: the same search with each portfolio simulated by a
straightforward event loop in Python (bar time by bar time, instrument by instrument, the
coordinator's rules on dicts). Both searches must give identical results (every step, every
grid point, the same trial count), and the chosen portfolio must be identical under the exact
simulator (the daemon's step and coordinator), before any time is reported.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from datetime import date
from typing import Any

import numpy as np
from _common import REPO, markdown_table, ratio, section, time_once
from multialpha.research.ml.manifest import Pair, load_config, pair_params
from multialpha.research.portfolio.candidates import signal_trades
from multialpha.research.portfolio.exact import simulate_exact
from multialpha.research.portfolio.fast import FastSimulator, Scores
from multialpha.research.portfolio.greedy import GreedySearch, SearchResult, SearchSettings
from multialpha.research.portfolio.kernels import MICRO, N_SCORES, STOPS, TRADES, daily_scores
from multialpha.research.portfolio.plan import WHOLE, Period, PortfolioInputs, PortfolioPlan, StrategyPlan
from multialpha.research.sampledata import DEFAULT_SYMBOLS, generate_sample_bars

from multialpha.contracts import load_contracts
from multialpha.strategy.ibs import IBS
from multialpha.strategy.params import IbsParams

SYMBOLS = tuple(s for s in DEFAULT_SYMBOLS if s not in ("ZB", "VX"))  # the 18 tradeable sample symbols
START, END = date(2023, 1, 2), date(2024, 12, 31)
SPLIT = date(2024, 7, 1)
TARGET_SECS = 2.0
REPEATS = 3


class EventLoop(FastSimulator):
    """The same interface, each portfolio simulated by a plain Python loop over bar times."""

    def __init__(self, inputs: PortfolioInputs, universe: PortfolioPlan) -> None:
        super().__init__(inputs, universe)  # for the universe's bookkeeping only (pairs, names)
        self.closes = {s: dict(zip(b.close_ts.tolist(), b.close.tolist(), strict=True)) for s, b in inputs.bars.items()}
        self.entries = {p: {int(t): i for i, t in enumerate(c.entry_ns.tolist())} for p, c in inputs.candidates.items()}
        self.evaluations = 0

    def score(self, masks: np.ndarray, limits: Mapping[str, tuple[int | None, float | None]], *,
              period: Period = WHOLE, starting_capital_usd: float, breach_level_usd: float) -> Scores:
        out = np.empty((masks.shape[0], N_SCORES))
        for i, mask in enumerate(np.atleast_2d(masks)):
            pairs = [p for p, keep in zip(self.pairs, mask, strict=True) if keep]
            daily, trades, stops = self.run_events(pairs, limits, period)
            daily_scores(np.array(daily, dtype=np.float64) / MICRO, starting_capital_usd, breach_level_usd, 252.0,
                         out[i])
            out[i, TRADES], out[i, STOPS] = trades, stops
            self.evaluations += 1
        return Scores(out)

    def run_events(self, pairs: list[tuple[str, str]], limits: Mapping[str, tuple[int | None, float | None]],
                   period: Period) -> tuple[list[int], int, int]:
        """Daily P&L in micro-dollars, trades closed and daily stops of one portfolio."""
        tl = self.inputs.timeline
        lo, hi = tl.rows(period)
        u = self.universe
        acct_max = u.account_max_positions
        stop_of = {s: None if v[1] is None else round(v[1] * MICRO) for s, v in limits.items()}
        stop_of["account"] = None if u.account_daily_stop_loss is None else round(u.account_daily_stop_loss * MICRO)
        account_of = {s.name: s.account for s in u.strategies}
        cands = {p: self.inputs.candidates[p] for p in pairs}
        spec = {p: (self.inputs.contracts[p[1]].point_value * cands[p].quantity * MICRO,
                    round(self.inputs.contracts[p[1]].commission_per_side * cands[p].quantity * MICRO)) for p in pairs}
        realized = dict.fromkeys([*limits, "account"], 0)
        unreal_sum = dict.fromkeys([*limits, "account"], 0)
        count = dict.fromkeys([*limits, "account"], 0)
        stopped = dict.fromkeys([*limits, "account"], False)
        pending = dict.fromkeys([*limits, "account"], False)
        held: dict[tuple[str | None, str], int] = {}
        pos: dict[tuple[str, str], dict[str, Any]] = {}
        last_close: dict[tuple[str, str], float] = {}
        last_exit: dict[tuple[str, str], int] = {}
        n_trades = n_stops = 0
        daily: list[int] = []

        def check(strategy: str) -> None:
            nonlocal n_stops
            for scope in (strategy, "account"):
                limit = stop_of[scope]
                if limit is not None and not stopped[scope] and realized[scope] + unreal_sum[scope] <= -limit:
                    stopped[scope] = True
                    n_stops += 1

        def close(p: tuple[str, str], price: float, row: int) -> None:
            nonlocal n_trades
            st = p[0]
            q = pos.pop(p)
            pvq, comm = spec[p]
            today = round((price - q["ref"]) * pvq) - comm
            for scope in (st, "account"):
                realized[scope] += today
                unreal_sum[scope] -= q["unreal"]
                count[scope] -= 1
            held[(account_of[st], p[1])] -= 1
            last_exit[p] = row
            n_trades += 1
            for scope in (st, "account"):
                if pending[scope] and count[scope] == 0:
                    pending[scope] = False
            check(st)

        def flatten(st: str) -> bool:
            return stopped[st] or pending[st] or stopped["account"] or pending["account"]

        day = int(tl.day_id[lo])
        for row in range(lo, hi):
            ts, d = int(tl.close_ns[row]), int(tl.day_id[row])
            if d != day:
                daily.append(realized["account"] + unreal_sum["account"])
                for scope in realized:
                    realized[scope] = unreal_sum[scope] = 0
                    pending[scope] = (stopped[scope] or pending[scope]) and count[scope] > 0
                    stopped[scope] = False
                for q in pos.values():
                    q["ref"], q["unreal"] = q["mark"], 0
                day = d
            for p in pairs:
                px = self.closes[p[1]].get(ts)
                if px is None:
                    continue
                last_close[p] = px
                st = p[0]
                if p in pos:
                    q = pos[p]
                    q["mark"] = px
                    value = round((px - q["ref"]) * spec[p][0])
                    unreal_sum[st] += value - q["unreal"]
                    unreal_sum["account"] += value - q["unreal"]
                    q["unreal"] = value
                    check(st)
                    if flatten(st) or q["exit_ns"] <= ts:
                        close(p, px, row)
                    continue
                j = self.entries[p].get(ts)
                if j is None or last_exit.get(p, -1) >= row:
                    continue
                if flatten(st) or held.get((account_of[st], p[1]), 0) > 0:
                    continue
                m = limits[st][0]
                if (m is not None and count[st] >= m) or (acct_max is not None and count["account"] >= acct_max):
                    continue
                pos[p] = {"ref": px, "mark": px, "unreal": 0, "exit_ns": int(cands[p].exit_ns[j])}
                for scope in (st, "account"):
                    realized[scope] -= spec[p][1]
                    count[scope] += 1
                held[(account_of[st], p[1])] = held.get((account_of[st], p[1]), 0) + 1
                check(st)
            for p in pairs:
                if p in pos and flatten(p[0]):
                    close(p, last_close[p], row)
        daily.append(realized["account"] + unreal_sum["account"])
        return daily, n_trades, n_stops


def _inputs() -> tuple[PortfolioInputs, PortfolioPlan, float]:
    contracts = load_contracts(REPO / "config" / "contracts.yml")
    bars = generate_sample_bars(SYMBOLS, start=START, end=END, seed=7)
    _, values = pair_params(load_config(REPO / "config.multi_alpha.yml"), Pair("ibs_a", SYMBOLS[0]))
    params = IbsParams.from_mapping({**values, "use_ml_filter": False})
    t0 = time.perf_counter()
    candidates = {("ibs", s): signal_trades(bars[s], IBS, params, contracts[s], strategy="ibs") for s in SYMBOLS}
    secs = time.perf_counter() - t0
    universe = PortfolioPlan((StrategyPlan("ibs", SYMBOLS, None, 2500.0),))
    return PortfolioInputs(bars, candidates, contracts), universe, secs


def _search(sim: FastSimulator) -> SearchResult:
    return GreedySearch(sim, SearchSettings(), train=Period(None, SPLIT), test=Period(SPLIT, None)).run()


def run() -> dict[str, Any]:
    inputs, universe, candidate_secs = _inputs()
    n_candidates = sum(len(c) for c in inputs.candidates.values())
    fast = FastSimulator(inputs, universe)
    compile_secs = time_once(lambda: _search(fast))  # the first search also loads or compiles the kernels
    fast_secs = min(time_once(lambda: _search(fast)) for _ in range(REPEATS))
    fast_result = _search(fast)
    loop = EventLoop(inputs, universe)
    loop_result: list[SearchResult] = []
    loop_secs = time_once(lambda: loop_result.append(_search(loop)))
    assert loop_result[0] == fast_result, "the event-loop search differs from the compiled one"
    best = GreedySearch(fast, SearchSettings(), train=Period(None, SPLIT)).plan(fast_result.best)
    exact_secs = 0.0
    for period in (Period(None, SPLIT), Period(SPLIT, None)):
        t0 = time.perf_counter()
        ex = simulate_exact(inputs, best, period)
        exact_secs += time.perf_counter() - t0
        fa = fast.simulate(best, period)
        assert ex.trades.equals(fa.trades) and ex.daily_pnl.equals(fa.daily_pnl) and ex.stops.equals(fa.stops)
    trials = fast_result.trials
    scored = loop.evaluations  # every portfolio scored, in and out of sample
    rows = [
        ["compiled simulator (numba, parallel over portfolios)", scored, fast_secs, fast_secs / scored * 1e3],
        ["plain event loop in Python (baseline)", scored, loop_secs, loop_secs / scored * 1e3],
        ["baseline / compiled", "", ratio(loop_secs, fast_secs), ""],
    ]
    table = markdown_table(["whole greedy search, 18 symbols x max_positions 1..10", "portfolios simulated",
                            "seconds", "ms per portfolio"], rows)
    b = fast_result.best
    met = "met" if fast_secs < TARGET_SECS else "NOT met"
    note = (f"{len(SYMBOLS)} symbols, {START} to {END} ({len(inputs.timeline.close_ns):,} bar times), "
            f"{n_candidates:,} candidate trades (every IBS signal held to its own exit; extracted once with the "
            f"daemon's step in {candidate_secs:.1f} s, not counted). {trials:,} distinct portfolios scored in "
            f"sample, {scored:,} simulations in all with the out-of-sample scoring of every step. "
            f"Target: the whole search under {TARGET_SECS:.0f} s on this machine: {met} (best of {REPEATS}: "
            f"{fast_secs:.2f} s; the first search of the process took {compile_secs:.2f} s, kernels loaded from "
            f"numba's cache or compiled). Both searches gave identical results, step for step; the chosen "
            f"portfolio (max_positions {b.max_positions}, {len(b.pairs)} symbols, in-sample Sharpe "
            f"{b.objective:.2f}) is identical under the exact simulator (the daemon's step and coordinator: "
            f"{exact_secs:.2f} s for its two periods). The compiled loop costs grow with bar times x symbols "
            f"in the portfolio; the search's cost with symbols squared x grid points.")
    if not math.isfinite(b.objective):
        note += " No portfolio met the constraints."
    return section("Portfolio search: compiled simulator vs a plain event loop, same results", table, note)


if __name__ == "__main__":
    from _common import format_section

    print(format_section(run()))
