"""Portfolio figures on a small result worked out by hand; the compiled scores agree with
``multialpha.research.stats`` on any series."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from multialpha.research.portfolio import kernels
from multialpha.research.portfolio.metrics import portfolio_metrics
from multialpha.research.portfolio.result import (
    SimulationResult,
    daily_series,
    open_frame,
    positions_series,
    stops_frame,
    trades_frame,
)
from multialpha.research.stats import (
    annualized_sharpe_ratio,
    annualized_sortino_ratio,
    breach_events,
    cagr,
    max_drawdown,
)

DAYS = [date(2024, 3, d) for d in (4, 5, 6, 7, 8)]
HOUR = 3_600 * 10**9
T = 1_709_560_800 * 10**9  # 2024-03-04 14:00 UTC


def _result() -> SimulationResult:
    trades = trades_frame([
        ("s", "ES", T, T + 2 * HOUR, 5000.0, 5006.0, 1, 295.5, "ibs_exit"),
        ("s", "NQ", T + HOUR, T + 3 * HOUR, 18000.0, 17995.0, 1, -104.5, "daily_stop"),
        ("s", "ES", T + 30 * HOUR, T + 32 * HOUR, 5000.0, 5004.0, 1, 195.5, "ibs_exit"),
    ])
    still = open_frame([("s", "GC", T + 96 * HOUR, 2000.0, 1)])
    stops = stops_frame([(date(2024, 3, 4), "s", T + 3 * HOUR)])
    positions = positions_series(np.array([T, T + 100 * HOUR]), np.array([1, 1]))
    return SimulationResult(trades, daily_series(DAYS, [300.0, -100.0, 200.0, -200.0, 300.0]), stops, positions,
                            still)


def test_portfolio_metrics_of_a_hand_made_result() -> None:
    m = portfolio_metrics(_result(), starting_capital_usd=10_000, breach_level_usd=150)
    # mean 100; deviations 200, -200, 100, -300, 200: sample variance 220,000 / 4 = 55,000
    assert m.sharpe == pytest.approx(100 / math.sqrt(55_000) * math.sqrt(252))
    # downside deviation sqrt((100**2 + 200**2) / 5) = 100
    assert m.sortino == pytest.approx(1.0 * math.sqrt(252))
    assert m.cagr == pytest.approx(1.05 ** (252 / 5) - 1)
    # equity 10,300 10,200 10,400 10,200 10,500: falls of 100 then 200 (the second beyond 150)
    assert (m.max_drawdown_usd, m.max_drawdown_fraction) == (200.0, pytest.approx(200 / 10_400))
    assert m.breach_events == 1
    assert (m.trades, m.net_pnl_usd, m.daily_stops, m.daily_stop_days) == (3, 500.0, 1, 1)
    assert m.profit_factor == pytest.approx((295.5 + 195.5) / 104.5)
    assert m.win_rate == pytest.approx(2 / 3)
    # ES [0h, 2h) and NQ [1h, 3h) overlap; GC open from 96h to the period's end (100h)
    assert m.max_concurrent_positions == 2
    assert m.avg_concurrent_positions == pytest.approx((2 + 2 + 2 + 4) / 100)
    assert (m.first_day, m.last_day, m.trading_days, m.deflated_sharpe) == ("2024-03-04", "2024-03-08", 5, None)


def test_deflated_sharpe_falls_as_the_trials_grow() -> None:
    few = portfolio_metrics(_result(), starting_capital_usd=10_000, breach_level_usd=150, n_trials=2,
                            trials_daily_sharpe_variance=0.01).deflated_sharpe
    many = portfolio_metrics(_result(), starting_capital_usd=10_000, breach_level_usd=150, n_trials=1000,
                             trials_daily_sharpe_variance=0.01).deflated_sharpe
    assert few is not None and many is not None and 0 < many < few < 1


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(-5_000, 5_000).map(float), min_size=2, max_size=60))
def test_compiled_scores_equal_the_research_statistics(pnl: list[float]) -> None:
    p = np.array(pnl)
    out = np.empty(kernels.N_SCORES)
    kernels.daily_scores(p, 20_000.0, 1_000.0, 252.0, out)
    dd = max_drawdown(p, 20_000.0)
    expected = {kernels.SHARPE: annualized_sharpe_ratio(p), kernels.SORTINO: annualized_sortino_ratio(p),
                kernels.CAGR: cagr(p, 20_000.0), kernels.MAX_DD_USD: dd.usd, kernels.MAX_DD_FRACTION: dd.fraction_of_peak,
                kernels.BREACHES: len(breach_events(p, 1_000.0)), kernels.NET: p.sum()}
    for column, value in expected.items():
        if math.isnan(value):
            assert math.isnan(out[column])
        else:
            assert out[column] == pytest.approx(value, rel=1e-9, abs=1e-9)
