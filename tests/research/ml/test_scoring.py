"""Threshold scoring: daily P&L by threshold, Sharpe per row, the threshold choice."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime

import numpy as np
from multialpha.research.ml.scoring import (
    accepted,
    best_threshold,
    daily_pnl_by_threshold,
    sharpe_of_rows,
    threshold_curve,
)
from multialpha.research.stats import annualized_sharpe_ratio, daily_pnl


def test_accepted_when_score_equals_threshold_then_taken_and_nan_never() -> None:
    taken = accepted(np.array([0.5, 0.49, np.nan, 0.7]), np.array([0.5, 0.6]))
    assert taken.tolist() == [[True, False, False, True], [False, False, False, True]]


def test_daily_pnl_by_threshold_sums_taken_trades_by_exit_day_and_leaves_other_days_zero() -> None:
    pnl = np.array([100.0, -40.0, 25.0, 10.0])
    day = np.array([0, 0, 2, 3])
    taken = np.array([[True, True, True, True], [True, False, False, True]])
    daily = daily_pnl_by_threshold(taken, pnl, day, 5)
    assert daily.tolist() == [[60.0, 0.0, 25.0, 10.0, 0.0], [100.0, 0.0, 0.0, 10.0, 0.0]]


def test_sharpe_of_rows_matches_hand_computation_and_the_stats_module() -> None:
    daily = np.array([[1.0, -1.0, 2.0, 0.0], [0.0, 0.0, 0.0, 0.0]])
    # mean 0.5, sample sd sqrt(((0.5)^2 + (1.5)^2 + (1.5)^2 + (0.5)^2) / 3) = sqrt(5/3)
    expected = 0.5 / math.sqrt(5 / 3) * math.sqrt(252)
    got = sharpe_of_rows(daily)
    assert math.isclose(got[0], expected)
    assert math.isclose(got[0], annualized_sharpe_ratio(daily[0]))
    assert math.isnan(got[1])  # flat


def test_daily_figures_equal_the_stats_module_on_cme_trade_dates() -> None:
    # Exits on Friday 2024-03-01 and Monday 2024-03-04 (trade dates), nothing on the weekend.
    exits = [datetime(2024, 3, 1, 15, tzinfo=UTC), datetime(2024, 3, 1, 18, tzinfo=UTC),
             datetime(2024, 3, 4, 15, tzinfo=UTC)]
    pnl = np.array([50.0, -20.0, 10.0])
    days = [date(2024, 2, 29), date(2024, 3, 1), date(2024, 3, 4), date(2024, 3, 5)]
    expected = daily_pnl(exits, pnl, days).to_numpy()
    ours = daily_pnl_by_threshold(np.ones((1, 3), dtype=bool), pnl, np.array([1, 1, 2]), 4)[0]
    assert ours.tolist() == expected.tolist() == [0.0, 30.0, 10.0, 0.0]


def test_threshold_curve_scores_each_path_and_counts_its_trades() -> None:
    pnl = np.array([10.0, -5.0, 7.0, -3.0])
    day = np.array([0, 1, 2, 3])
    paths = np.array([[0.9, 0.2, 0.6, 0.4], [0.9, 0.6, 0.6, 0.1]])
    curve = threshold_curve(paths, pnl, day, 4, np.array([0.3, 0.5]))
    assert curve.path_trades.tolist() == [[3, 3], [2, 3]]
    assert curve.trades.tolist() == [3.0, 2.5]
    path0_at_05 = sharpe_of_rows(np.array([10.0, 0.0, 7.0, 0.0]))[0]
    assert math.isclose(curve.path_sharpe[1, 0], path0_at_05)
    assert math.isclose(curve.sharpe[1], (path0_at_05 + curve.path_sharpe[1, 1]) / 2)


def test_best_threshold_when_best_sharpe_has_too_few_trades_then_next_best_qualifying() -> None:
    sharpe = np.array([1.0, 2.0, 3.0, np.nan])
    trades = np.array([100, 60, 10, 200])
    assert best_threshold(sharpe, trades, 50) == 1
    assert best_threshold(sharpe, trades, 5) == 2
    assert best_threshold(sharpe, trades, 500) is None


def test_best_threshold_when_tied_then_lowest_threshold() -> None:
    assert best_threshold(np.array([1.5, 1.5, 1.0]), np.array([90, 80, 70]), 10) == 0
