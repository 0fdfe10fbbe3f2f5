"""The simpler simulator's conventions, one at a time, on the hand-made daily-stop example."""

from __future__ import annotations

import math

import numpy as np
import pytest
from multialpha.research.portfolio.desk import convention_figures, final_pnl
from multialpha.research.portfolio.exact import simulate_exact
from multialpha.research.portfolio.plan import PortfolioInputs, PortfolioPlan, StrategyPlan

from .conftest import MakeCandidates, closes_bars


def test_booking_a_stopped_trade_at_its_own_final_pnl_hides_the_stop(contracts, make_candidates: MakeCandidates) -> None:
    es = closes_bars("ES", [5000, 5000, 4985, 4980, 4990, 5010, 5010, 5010, 5010, 5010], 0.25)
    inputs = PortfolioInputs({"ES": es}, {("s", "ES"): make_candidates("s", "ES", es, [(0, 5, "ibs_exit")])}, contracts)
    result = simulate_exact(inputs, PortfolioPlan((StrategyPlan("s", ("ES",), 1, 1000.0),)))
    assert result.trades.pnl_usd.tolist() == [-1004.5]  # flattened at 4980 by the stop
    assert final_pnl(result, inputs).tolist() == [10 * 50 - 4.5]  # held to its own exit at 5010
    rows = {r.convention: r for r in convention_figures(result, inputs, 10_000)}
    assert rows["mark_to_market"].net_pnl_usd == rows["exit_dates"].net_pnl_usd == -1004.5
    assert rows["final_pnl_at_forced_close"].net_pnl_usd == 495.5
    assert rows["final_pnl_at_forced_close"].max_drawdown_usd == 0.0
    assert list(result.daily_pnl) == [-1004.5, 0.0]


def test_calendar_days_add_zero_days_and_annualise_by_365(contracts, make_candidates: MakeCandidates) -> None:
    # From Tuesday 5 March: trade dates 5, 6, 7, 8, 11 and 12 March; 8 calendar days.
    n = 8 + 23 * 5  # 8 bars on Tuesday 5 March, then five whole trade dates
    es = closes_bars("ES", [5000.0 + (i % 7) for i in range(n)], 0.25)
    spans = [(i, i + 2, "ibs_exit") for i in range(0, n - 3, 20)]
    inputs = PortfolioInputs({"ES": es}, {("s", "ES"): make_candidates("s", "ES", es, spans)}, contracts)
    result = simulate_exact(inputs, PortfolioPlan((StrategyPlan("s", ("ES",)),)))
    rows = {r.convention: r for r in convention_figures(result, inputs, 10_000)}
    daily = result.daily_pnl.tolist()  # no position spans a close: marked and exit-date P&L agree
    assert len(daily) == 6
    calendar = np.array(daily[:4] + [0.0, 0.0] + daily[4:])  # Saturday 9 and Sunday 10 add 0
    assert rows["exit_dates"].sharpe == pytest.approx(np.mean(daily) / np.std(daily, ddof=1) * math.sqrt(252))
    assert rows["calendar_days"].sharpe == pytest.approx(calendar.mean() / calendar.std(ddof=1) * math.sqrt(365))
