"""Where the sample bars' fat tails and slow volatility clustering come from.

Real hourly futures and FX returns are far from Gaussian: over a couple of years a liquid
contract's hourly log returns show an excess kurtosis of roughly 10-30, most of it from
news hours and session-open gaps, and the size of the moves (after dividing out the
intraday profile) stays autocorrelated for weeks, decaying roughly like a power law rather
than exponentially. A single GARCH(1,1) with Gaussian shocks gives neither (excess kurtosis
3-5, memory gone within a few days). The sample generator multiplies its GARCH variance by
the pieces here:

* Student-t shocks (``T_DOF`` degrees of freedom, unit variance);
* two volatility regimes, log-variance AR(1)s with half-lives of about a week and about two
  months whose shocks load on the same factors as the returns (by size), so equity indices
  turn volatile together and VX with them;
* news hours: scheduled US releases in the 07:00, 09:00 and 13:00 CT bars (data at 07:30
  and 09:00 CT, FOMC at 13:00 CT), rare unscheduled news in any bar, the weekly EIA reports
  for CL and NG, and rare news of one symbol alone.

``MOVE_CAP_SIGMAS`` bounds any one bar's move (in the symbol's long-run hourly sigmas) so
that two years of sample hours never hang on a single freak draw: without it the sample
kurtosis of one seed could land anywhere from 10 to 70.
"""

from __future__ import annotations

import numpy as np

from multialpha.features.daily import NS_PER_DAY, exchange_hour, exchange_offset_ns

T_DOF = 6.0
MOVE_CAP_SIGMAS = 10.0
# (half-life in bars, sd of the log variance); 23 bars make a session.
_REGIMES = ((23 * 5, 0.45), (23 * 42, 0.75))
# News: the bar's variance is multiplied by 1 + extra, extra = mean * a gamma draw of mean 1.
# Exchange hour (CT) of the bar start -> (probability per session, mean extra variance).
_NEWS = {7: (0.35, 8.0), 9: (0.12, 4.0), 13: (0.04, 10.0)}
_NEWS_UNSCHEDULED = (0.01, 6.0)  # any bar: probability, mean extra variance
_NEWS_REACH = {"CL": 0.5, "NG": 0.3}  # share of macro news a symbol takes (others all of it)
# EIA inventory reports at 09:30 CT: weekday (0 = Monday), exchange hour, mean extra variance.
_INVENTORY = {"CL": (2, 9, 4.0), "NG": (3, 9, 6.0)}
_OWN_NEWS = (0.001, 8.0)  # per bar and symbol: probability, mean extra variance
_NEWS_SIZE_SHAPE = 4.0  # gamma shape: news sizes vary, but not without bound


def student_t(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Student-t draws scaled to unit variance."""
    return rng.standard_t(T_DOF, shape) * np.sqrt((T_DOF - 2.0) / T_DOF)


def regime_variance(rng: np.random.Generator, n: int, loadings: np.ndarray, own: np.ndarray
                    ) -> np.ndarray:
    """Slow variance multiplier of shape (n, symbols), mean 1.

    ``loadings`` (symbols x factors) and ``own`` weigh each symbol's log-variance shocks, so
    that symbols sharing a factor share their regimes; pass the returns' loadings by size.
    """
    k = loadings.shape[0]
    log_var = np.zeros((n, k))
    for half_life, sd in _REGIMES:
        phi = 0.5 ** (1.0 / half_life)
        shocks = sd * (rng.standard_normal((n, loadings.shape[1])) @ loadings.T
                       + rng.standard_normal((n, k)) * own)
        x = shocks[0]  # start in the stationary distribution
        log_var[0] += x
        innovation = np.sqrt(1.0 - phi**2)
        for t in range(1, n):
            x = phi * x + innovation * shocks[t]
            log_var[t] += x
    total_var = sum(sd**2 for _, sd in _REGIMES)
    return np.exp(log_var - total_var / 2.0)


def news_variance(rng: np.random.Generator, ts: np.ndarray, symbols: list[str]) -> np.ndarray:
    """Variance multiplier of shape (bars, symbols) from news hours; 1 outside them."""
    n, k = ts.shape[0], len(symbols)
    hour = exchange_hour(ts)
    weekday = ((ts + exchange_offset_ns(ts)) // NS_PER_DAY + 3) % 7  # 0 = Monday
    chance, mean = np.full(n, _NEWS_UNSCHEDULED[0]), np.full(n, _NEWS_UNSCHEDULED[1])
    for h, (p, m) in _NEWS.items():
        chance[hour == h], mean[hour == h] = p, m
    macro = np.where(rng.random(n) < chance, _news_size(rng, n) * mean, 0.0)
    reach = np.array([_NEWS_REACH.get(s, 1.0) for s in symbols])
    extra = macro[:, None] * reach
    p_own, m_own = _OWN_NEWS
    extra += np.where(rng.random((n, k)) < p_own, _news_size(rng, (n, k)) * m_own, 0.0)
    report = _news_size(rng, n)
    for symbol, (day, h, m) in _INVENTORY.items():
        if symbol in symbols:
            extra[:, symbols.index(symbol)] += np.where((weekday == day) & (hour == h), report * m, 0.0)
    return 1.0 + extra


def _news_size(rng: np.random.Generator, shape: int | tuple[int, ...]) -> np.ndarray:
    """How big a piece of news is against its kind's mean (gamma, mean 1)."""
    return rng.gamma(_NEWS_SIZE_SHAPE, 1.0 / _NEWS_SIZE_SHAPE, shape)
