"""Out-of-sample scores of a filter: daily P&L Sharpe by probability threshold. Pure functions.

A filtered strategy takes the candidate trades whose predicted P(win) is at or above the
threshold. Its daily P&L is the sum of the taken trades' net P&L by the position of their exit
trade date in the period's calendar of CME trade dates (0 on a date without an exit); the
Sharpe ratio is annualised like ``research.stats.annualized_sharpe_ratio``: mean over the
sample standard deviation (``ddof=1``) of the daily P&L, times ``sqrt(252)``, NaN for a flat
series. Every threshold of a grid is scored at once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

TRADING_DAYS_PER_YEAR = 252


def accepted(scores: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """``(n_thresholds, n)`` bool: which trades each threshold lets through (``score >= t``; a
    NaN score never passes)."""
    return np.asarray(scores)[None, :] >= np.asarray(thresholds)[:, None]


def daily_pnl_by_threshold(taken: np.ndarray, pnl: np.ndarray, day: np.ndarray, n_days: int) -> np.ndarray:
    """``(n_thresholds, n_days)`` P&L per day of the trades each row of ``taken`` lets through;
    ``day`` is each trade's exit day as a position in the calendar."""
    out = np.empty((taken.shape[0], n_days))
    for k in range(taken.shape[0]):
        out[k] = np.bincount(day, weights=np.where(taken[k], pnl, 0.0), minlength=n_days)
    return out


def sharpe_of_rows(daily: np.ndarray, periods_per_year: float = TRADING_DAYS_PER_YEAR) -> np.ndarray:
    """Annualised Sharpe ratio of each row of daily P&L (NaN where a row is flat or too short)."""
    daily = np.atleast_2d(daily)
    if daily.shape[1] < 2:
        return np.full(daily.shape[0], math.nan)
    sd = daily.std(axis=1, ddof=1)
    mean = daily.mean(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(sd > 0, mean / sd * math.sqrt(periods_per_year), math.nan)


@dataclass(frozen=True)
class ThresholdCurve:
    """The filter's out-of-sample figures at each threshold, over the CPCV backtest paths."""

    thresholds: np.ndarray  # (g,)
    path_sharpe: np.ndarray  # (g, n_paths): annualised Sharpe of each path's daily P&L
    path_trades: np.ndarray  # (g, n_paths): trades each path takes

    @property
    def sharpe(self) -> np.ndarray:
        """Mean Sharpe over the paths (NaN where a path is flat)."""
        return self.path_sharpe.mean(axis=1)

    @property
    def trades(self) -> np.ndarray:
        """Mean trades per path."""
        return self.path_trades.mean(axis=1)


def threshold_curve(path_scores: np.ndarray, pnl: np.ndarray, day: np.ndarray, n_days: int,
                    thresholds: np.ndarray) -> ThresholdCurve:
    """Score every threshold on every CPCV path; ``path_scores`` is ``(n_paths, n)``, one
    out-of-fold P(win) per trade and path (``CombinatorialPurgedKFold.assemble_paths``)."""
    g, n_paths = len(thresholds), path_scores.shape[0]
    sharpe = np.empty((g, n_paths))
    trades = np.empty((g, n_paths), dtype=np.int64)
    for p in range(n_paths):
        taken = accepted(path_scores[p], thresholds)
        sharpe[:, p] = sharpe_of_rows(daily_pnl_by_threshold(taken, pnl, day, n_days))
        trades[:, p] = taken.sum(axis=1)
    return ThresholdCurve(np.asarray(thresholds, dtype=np.float64), sharpe, trades)


def best_threshold(sharpe: np.ndarray, trades: np.ndarray, min_trades: float) -> int | None:
    """Index of the threshold with the highest Sharpe among those taking at least
    ``min_trades`` trades (the lowest such threshold on a tie); None if no threshold qualifies."""
    ok = (np.asarray(trades) >= min_trades) & np.isfinite(sharpe)
    if not ok.any():
        return None
    masked = np.where(ok, sharpe, -np.inf)
    return int(np.argmax(masked))
