"""The compiled simulator gives exactly the exact simulator's results on the same inputs."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
from multialpha.research.portfolio import kernels
from multialpha.research.portfolio.exact import simulate_exact
from multialpha.research.portfolio.fast import FastSimulator
from multialpha.research.portfolio.metrics import portfolio_metrics
from multialpha.research.portfolio.plan import Period, PortfolioInputs, PortfolioPlan, StrategyPlan
from multialpha.research.portfolio.result import SimulationResult

SYMBOLS = ("ES", "NQ", "CL", "GC", "6E")
PLANS = {
    "strategy limits only": PortfolioPlan((StrategyPlan("a", SYMBOLS, 2, 1200.0),)),
    "two strategies, one account, account limits": PortfolioPlan(
        (StrategyPlan("a", SYMBOLS, 3, 2000.0), StrategyPlan("b", ("NQ", "GC", "6E"), 2, 800.0)),
        account_max_positions=4, account_daily_stop_loss=1800.0),
    "two accounts, no stops": PortfolioPlan(
        (StrategyPlan("a", ("ES", "CL"), 1, None), StrategyPlan("b", ("ES", "CL"), 1, None, account="other"))),
    "no limits at all": PortfolioPlan((StrategyPlan("b", SYMBOLS),)),
}
PERIODS = {"whole": Period(), "training": Period(None, date(2023, 4, 3)), "test": Period(date(2023, 4, 3), None)}


def assert_same(a: SimulationResult, b: SimulationResult) -> None:
    pd.testing.assert_frame_equal(a.trades, b.trades)
    pd.testing.assert_series_equal(a.daily_pnl, b.daily_pnl)
    pd.testing.assert_frame_equal(a.stops, b.stops)
    pd.testing.assert_series_equal(a.positions, b.positions)
    pd.testing.assert_frame_equal(a.still_open, b.still_open)


@pytest.mark.parametrize("period", PERIODS.values(), ids=PERIODS.keys())
@pytest.mark.parametrize("plan", PLANS.values(), ids=PLANS.keys())
def test_fast_simulation_equals_the_exact_one(sample_inputs: PortfolioInputs, plan: PortfolioPlan,
                                             period: Period) -> None:
    exact = simulate_exact(sample_inputs, plan, period)
    fast = FastSimulator(sample_inputs, plan).simulate(plan, period)
    assert_same(fast, exact)
    assert len(exact.trades) > 20


def test_fast_simulation_of_a_subset_of_the_universe_equals_the_exact_one(sample_inputs: PortfolioInputs) -> None:
    universe = PLANS["two strategies, one account, account limits"]
    subset = universe.selecting({("a", "ES"), ("a", "GC"), ("b", "NQ"), ("b", "6E")})
    assert_same(FastSimulator(sample_inputs, universe).simulate(subset), simulate_exact(sample_inputs, subset))


def test_scores_equal_the_metrics_of_the_full_simulation(sample_inputs: PortfolioInputs) -> None:
    universe = PLANS["two strategies, one account, account limits"]
    sim = FastSimulator(sample_inputs, universe)
    masks = np.array([[True] * 8, [True, False, True, False, True, False, True, False]])
    limits = {s.name: (s.max_positions, s.daily_stop_loss) for s in universe.strategies}
    table = sim.score(masks, limits, starting_capital_usd=50_000, breach_level_usd=1_500).table
    for mask, row in zip(masks, table, strict=True):
        plan = universe.selecting({p for p, keep in zip(sim.pairs, mask, strict=True) if keep})
        m = portfolio_metrics(simulate_exact(sample_inputs, plan), starting_capital_usd=50_000,
                              breach_level_usd=1_500)
        assert row[kernels.SHARPE] == pytest.approx(m.sharpe, rel=1e-12)
        assert row[kernels.SORTINO] == pytest.approx(m.sortino, rel=1e-12)
        assert row[kernels.NET] == pytest.approx(m.net_pnl_usd, abs=1e-6)
        assert row[kernels.CAGR] == pytest.approx(m.cagr, rel=1e-9)
        assert row[kernels.MAX_DD_USD] == pytest.approx(m.max_drawdown_usd, abs=1e-6)
        assert row[kernels.MAX_DD_FRACTION] == pytest.approx(m.max_drawdown_fraction, rel=1e-9)
        assert (row[kernels.BREACHES], row[kernels.TRADES], row[kernels.STOPS]) == (
            m.breach_events, m.trades, m.daily_stops)


def test_a_plan_out_of_the_universes_order_is_refused(sample_inputs: PortfolioInputs) -> None:
    universe = PortfolioPlan((StrategyPlan("a", ("ES", "NQ")),))
    with pytest.raises(ValueError, match="orders its symbols differently"):
        FastSimulator(sample_inputs, universe).simulate(PortfolioPlan((StrategyPlan("a", ("NQ", "ES")),)))
