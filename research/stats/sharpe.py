"""Sharpe ratios and their significance: PSR and the Deflated Sharpe Ratio.

Conventions, used by every function here:

* a Sharpe ratio is per period (per observation: per day for daily returns) unless the name
  says ``annualized``; the mean over the sample standard deviation (``ddof=1``), with no
  risk-free rate subtracted (pass excess returns if one applies);
* kurtosis is the plain, non-excess fourth standardised moment: 3 for normal returns;
* skewness and kurtosis from ``return_moments`` are the population (biased) moments, as in
  Bailey and Lopez de Prado, matching ``scipy.stats.skew`` and ``kurtosis(fisher=False)``.

References: D. H. Bailey and M. Lopez de Prado, "The Sharpe Ratio Efficient Frontier",
Journal of Risk 15(2), 2012 (PSR); "The Deflated Sharpe Ratio: Correcting for Selection Bias,
Backtest Overfitting and Non-Normality", Journal of Portfolio Management 40(5), 2014 (DSR).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import ndtr, ndtri  # standard normal CDF and its inverse

EULER_MASCHERONI = 0.5772156649015329


@dataclass(frozen=True)
class ReturnMoments:
    """What PSR and DSR need to know about one return series."""

    n_obs: int
    sharpe: float  # per period
    skew: float
    kurtosis: float  # non-excess: 3 for normal returns


def _returns(returns: ArrayLike) -> np.ndarray:
    r = np.asarray(returns, dtype=np.float64)
    if r.ndim != 1:
        raise ValueError(f"returns: expected a 1-d series, got shape {r.shape}")
    if r.shape[0] < 2:
        raise ValueError(f"returns: need at least 2 observations, got {r.shape[0]}")
    if not np.all(np.isfinite(r)):
        raise ValueError("returns: every value must be finite")
    return r


def sharpe_ratio(returns: ArrayLike) -> float:
    """Per-period Sharpe ratio: mean / sample standard deviation (``ddof=1``).

    NaN when the standard deviation is zero (a constant series has no defined Sharpe).
    """
    r = _returns(returns)
    sd = float(r.std(ddof=1))
    return float(r.mean()) / sd if sd > 0 else math.nan


def annualized_sharpe_ratio(returns: ArrayLike, periods_per_year: float = 252.0) -> float:
    """Per-period Sharpe ratio times ``sqrt(periods_per_year)`` (252 trading days by default)."""
    if not periods_per_year > 0:
        raise ValueError(f"periods_per_year must be positive, got {periods_per_year!r}")
    return sharpe_ratio(returns) * math.sqrt(periods_per_year)


def annualized_sortino_ratio(returns: ArrayLike, periods_per_year: float = 252.0) -> float:
    """Mean over the downside deviation against 0, times ``sqrt(periods_per_year)``.

    The downside deviation is ``sqrt(mean(min(r, 0)**2))`` over all observations (a gain
    counts as 0). Infinite when nothing lost and the mean is positive; NaN when nothing lost
    or gained.
    """
    if not periods_per_year > 0:
        raise ValueError(f"periods_per_year must be positive, got {periods_per_year!r}")
    r = _returns(returns)
    downside = math.sqrt(float(np.mean(np.minimum(r, 0.0) ** 2)))
    mean = float(r.mean())
    if downside == 0:
        return math.inf if mean > 0 else math.nan
    return mean / downside * math.sqrt(periods_per_year)


def return_moments(returns: ArrayLike) -> ReturnMoments:
    """Observation count, per-period Sharpe, skewness and (non-excess) kurtosis of a series.

    Skewness and kurtosis are population moments (divided by n); both are NaN for a constant
    series, like the Sharpe ratio.
    """
    r = _returns(returns)
    dev = r - r.mean()
    m2 = float(np.mean(dev**2))
    if m2 == 0:
        return ReturnMoments(r.shape[0], math.nan, math.nan, math.nan)
    skew = float(np.mean(dev**3)) / m2**1.5
    kurt = float(np.mean(dev**4)) / m2**2
    return ReturnMoments(r.shape[0], sharpe_ratio(r), skew, kurt)


def _check_obs(n_obs: int) -> None:
    if isinstance(n_obs, bool) or not isinstance(n_obs, int | np.integer) or n_obs < 2:
        raise ValueError(f"n_obs must be an integer >= 2, got {n_obs!r}")


def sharpe_ratio_std_error(sharpe: float, n_obs: int, *, skew: float = 0.0, kurtosis: float = 3.0) -> float:
    """Standard error of an estimated per-period Sharpe ratio under non-normal returns.

    ``sqrt((1 - skew * SR + (kurtosis - 1) / 4 * SR**2) / (n_obs - 1))`` (Bailey and Lopez de
    Prado 2012, after Mertens 2002); ``kurtosis`` is non-excess (3 for normal returns).
    """
    _check_obs(n_obs)
    if not math.isfinite(sharpe):
        raise ValueError(f"sharpe must be finite, got {sharpe!r}")
    if not (math.isfinite(skew) and math.isfinite(kurtosis)) or kurtosis < 1 + skew**2:
        # Any distribution has kurtosis >= 1 + skew**2; below it the input is most likely an
        # excess kurtosis (0 for normal returns) rather than the plain one this formula takes.
        raise ValueError(f"kurtosis must be the non-excess kurtosis (3 for normal returns), at least "
                         f"1 + skew**2 = {1 + skew**2:.4g}; got kurtosis={kurtosis!r}, skew={skew!r}")
    bracket = 1.0 - skew * sharpe + (kurtosis - 1.0) / 4.0 * sharpe**2
    return math.sqrt(bracket / (n_obs - 1))


def probabilistic_sharpe_ratio(sharpe: float, n_obs: int, *, benchmark: float = 0.0,
                               skew: float = 0.0, kurtosis: float = 3.0) -> float:
    """Probability that the true per-period Sharpe ratio exceeds ``benchmark`` (PSR).

    ``PSR = Phi((SR - SR*) * sqrt(n_obs - 1) / sqrt(1 - skew * SR + (kurtosis - 1) / 4 * SR**2))``
    with ``SR`` the observed per-period Sharpe over ``n_obs`` returns, ``SR*`` the benchmark
    (same period), and the returns' skewness and non-excess kurtosis (3 for normal returns).
    """
    if not math.isfinite(benchmark):
        raise ValueError(f"benchmark must be finite, got {benchmark!r}")
    se = sharpe_ratio_std_error(sharpe, n_obs, skew=skew, kurtosis=kurtosis)
    return float(ndtr((sharpe - benchmark) / se))


def expected_max_sharpe_ratio(n_trials: int, trials_sharpe_variance: float) -> float:
    """Expected maximum per-period Sharpe ratio of ``n_trials`` trials that have no skill (SR0).

    ``SR0 = sqrt(V) * ((1 - g) * Phi^-1(1 - 1/N) + g * Phi^-1(1 - 1/(N e)))``, with ``V`` the
    variance of the trials' per-period Sharpe ratios and ``g`` the Euler-Mascheroni constant
    (Bailey and Lopez de Prado 2014, eq. 2). One trial involves no selection: SR0 is 0.
    """
    if isinstance(n_trials, bool) or not isinstance(n_trials, int | np.integer) or n_trials < 1:
        raise ValueError(f"n_trials must be an integer >= 1, got {n_trials!r}")
    if not (math.isfinite(trials_sharpe_variance) and trials_sharpe_variance >= 0):
        raise ValueError(f"trials_sharpe_variance must be finite and >= 0, got {trials_sharpe_variance!r}")
    if n_trials == 1:
        return 0.0
    g = EULER_MASCHERONI
    z = (1 - g) * ndtri(1 - 1 / n_trials) + g * ndtri(1 - 1 / (n_trials * math.e))
    return math.sqrt(trials_sharpe_variance) * float(z)


def deflated_sharpe_ratio(sharpe: float, n_obs: int, *, n_trials: int, trials_sharpe_variance: float,
                          skew: float = 0.0, kurtosis: float = 3.0) -> float:
    """Deflated Sharpe Ratio: the PSR of the selected trial against SR0 of all the trials.

    ``sharpe``, ``n_obs``, ``skew`` and ``kurtosis`` describe the selected trial's returns;
    ``n_trials`` is every configuration tried (not only the kept ones) and
    ``trials_sharpe_variance`` the variance of their per-period Sharpe ratios.
    """
    sr0 = expected_max_sharpe_ratio(n_trials, trials_sharpe_variance)
    return probabilistic_sharpe_ratio(sharpe, n_obs, benchmark=sr0, skew=skew, kurtosis=kurtosis)
