"""How much the search's best Sharpe ratio can be trusted: PSR and DSR with the real trial count.

* Sharpe (CPCV): the selected configuration's mean annualised Sharpe over the CPCV backtest
  paths at the chosen threshold (out of sample: every path's P&L comes from forests that never
  saw those trades).
* PSR: the probability that the true Sharpe is above 0, given the per-day Sharpe (annualised /
  sqrt(252)), the number of trade dates of the search period and the skewness and (non-excess)
  kurtosis of the paths' daily P&L pooled.
* DSR: the same probability against the Sharpe ratio the best of ``n_trials`` skill-less
  trials would reach, where ``n_trials`` counts every trial the search ran to a verdict
  (completed or pruned; failed ones evaluated nothing) and the variance is that of the
  completed trials' per-day Sharpe ratios. Each trial's value is already its best threshold
  on the grid, so that choice is inside the variance the deflation uses.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from multialpha.research.ml.scoring import TRADING_DAYS_PER_YEAR
from multialpha.research.stats import deflated_sharpe_ratio, probabilistic_sharpe_ratio, return_moments


@dataclass(frozen=True)
class SearchStatistics:
    sharpe: float  # annualised, mean over the CPCV paths
    path_sharpe: tuple[float, ...]
    psr: float | None  # None when the moments are undefined (a flat series)
    dsr: float | None
    n_trials: int
    n_days: int
    trials_sharpe_variance: float  # of per-day Sharpe ratios
    skew: float
    kurtosis: float


def search_statistics(path_daily: np.ndarray, path_sharpe: Sequence[float], trial_values: Sequence[float],
                      n_trials: int) -> SearchStatistics:
    """Statistics of the selected configuration; ``path_daily`` is ``(n_paths, n_days)`` daily
    P&L at the chosen threshold, ``trial_values`` the annualised values of the completed trials."""
    scale = math.sqrt(TRADING_DAYS_PER_YEAR)
    sharpe = float(np.mean(path_sharpe))
    values = np.asarray([v for v in trial_values if math.isfinite(v)], dtype=np.float64) / scale
    variance = float(values.var(ddof=1)) if values.shape[0] > 1 else 0.0
    n_days = int(path_daily.shape[1])
    moments = return_moments(path_daily.ravel())
    psr = dsr = None
    if math.isfinite(sharpe) and math.isfinite(moments.skew) and n_days >= 2:
        per_day = sharpe / scale
        psr = probabilistic_sharpe_ratio(per_day, n_days, skew=moments.skew, kurtosis=moments.kurtosis)
        dsr = deflated_sharpe_ratio(per_day, n_days, n_trials=max(n_trials, 1), trials_sharpe_variance=variance,
                                    skew=moments.skew, kurtosis=moments.kurtosis)
    return SearchStatistics(sharpe, tuple(float(x) for x in path_sharpe), psr, dsr, n_trials, n_days, variance,
                            moments.skew, moments.kurtosis)
