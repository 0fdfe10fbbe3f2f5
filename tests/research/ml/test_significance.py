"""PSR and DSR of the selected configuration, with the number of trials actually run."""

from __future__ import annotations

import math

import numpy as np
from multialpha.research.ml.significance import search_statistics
from multialpha.research.stats import deflated_sharpe_ratio, probabilistic_sharpe_ratio, return_moments


def _paths(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.normal(30.0, 400.0, size=(3, 500))


def test_psr_and_dsr_use_per_day_sharpe_the_days_and_pooled_moments() -> None:
    daily = _paths()
    path_sharpe = [1.1, 1.3, 0.9]
    values = [1.2, 0.4, -0.3, 0.8, 1.0]
    stats = search_statistics(daily, path_sharpe, values, n_trials=12)
    per_day = 1.1 / math.sqrt(252)
    m = return_moments(daily.ravel())
    variance = float(np.var(np.array(values) / math.sqrt(252), ddof=1))
    assert math.isclose(stats.sharpe, 1.1)
    assert stats.n_days == 500 and stats.n_trials == 12
    assert math.isclose(stats.trials_sharpe_variance, variance)
    assert stats.psr is not None and math.isclose(stats.psr, probabilistic_sharpe_ratio(
        per_day, 500, skew=m.skew, kurtosis=m.kurtosis))
    assert stats.dsr is not None and math.isclose(stats.dsr, deflated_sharpe_ratio(
        per_day, 500, n_trials=12, trials_sharpe_variance=variance, skew=m.skew, kurtosis=m.kurtosis))


def test_dsr_when_more_trials_were_run_then_lower() -> None:
    daily, sharpe, values = _paths(), [1.2, 1.2, 1.2], [1.2, 0.1, -0.5, 0.7]
    few = search_statistics(daily, sharpe, values, n_trials=4).dsr
    many = search_statistics(daily, sharpe, values, n_trials=420).dsr
    assert few is not None and many is not None and many < few


def test_dsr_when_one_trial_then_equals_psr() -> None:
    stats = search_statistics(_paths(), [1.0, 1.0, 1.0], [1.0], n_trials=1)
    assert stats.dsr == stats.psr


def test_statistics_when_paths_are_flat_then_no_psr() -> None:
    stats = search_statistics(np.zeros((3, 50)), [math.nan] * 3, [], n_trials=5)
    assert stats.psr is None and stats.dsr is None
