"""The figures of one simulated portfolio: pure functions over a ``SimulationResult``.

Conventions (those of ``multialpha.research.stats``, applied to the portfolio):

* Daily P&L is marked to market on CME trade dates (the coordinator's daily P&L: realized
  plus the change in open positions' value), one value per trade date of the period, 0 on a
  day without a position; calendar days that are not trade dates never appear and nothing is
  forward-filled.
* Sharpe: mean / sample standard deviation (ddof=1) of daily USD P&L, times sqrt(252).
  Sortino: mean over the downside deviation against 0 (over all days), times sqrt(252).
* CAGR on the stated starting capital over the period's trade dates (252 a year).
* Max drawdown on end-of-day equity (starting capital + cumulative daily P&L), in USD and as
  a fraction of the peak; a breach event is a drawdown episode deeper than the breach level,
  counted once however often it crosses it.
* Daily stops: every stop that fired (a strategy's or the account's), and the trade dates
  with at least one. Concurrent positions: time-weighted average and maximum over closed
  trades and positions still open at the end (open until the period's last bar time).
* Profit factor, win rate and trade count over closed trades, net of commission.
* Deflated Sharpe: the probability that the true Sharpe exceeds the best of ``n_trials``
  unskilled trials (Bailey and Lopez de Prado 2014), from the per-day Sharpe, skewness and
  kurtosis of the daily P&L and the variance of the trials' per-day Sharpe ratios.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from multialpha.research.portfolio.result import SimulationResult
from multialpha.research.stats import (
    TRADING_DAYS_PER_YEAR,
    annualized_sharpe_ratio,
    annualized_sortino_ratio,
    breach_events,
    cagr,
    concurrent_positions,
    deflated_sharpe_ratio,
    max_drawdown,
    profit_factor,
    return_moments,
    win_rate,
)


@dataclass(frozen=True)
class PortfolioMetrics:
    """One portfolio over one period; see the module docstring for each convention."""

    first_day: str
    last_day: str
    trading_days: int
    trades: int
    net_pnl_usd: float
    sharpe: float
    sortino: float
    cagr: float
    max_drawdown_usd: float
    max_drawdown_fraction: float
    breach_events: int
    daily_stops: int
    daily_stop_days: int
    avg_concurrent_positions: float
    max_concurrent_positions: int
    profit_factor: float
    win_rate: float
    deflated_sharpe: float | None  # None when no trial count was given

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON values (NaN and infinities as None)."""
        return {k: _plain(v) for k, v in asdict(self).items()}


def _plain(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _ratio(fn: Any, daily: np.ndarray) -> float:
    return fn(daily, TRADING_DAYS_PER_YEAR) if daily.shape[0] >= 2 else math.nan


def deflated_sharpe(daily_pnl_usd: np.ndarray, n_trials: int, trials_daily_sharpe_variance: float) -> float:
    """DSR of a daily P&L series selected among ``n_trials`` (NaN for a flat series)."""
    m = return_moments(daily_pnl_usd)
    if not math.isfinite(m.sharpe):
        return math.nan
    return deflated_sharpe_ratio(m.sharpe, m.n_obs, n_trials=n_trials,
                                 trials_sharpe_variance=trials_daily_sharpe_variance, skew=m.skew,
                                 kurtosis=m.kurtosis)


def portfolio_metrics(result: SimulationResult, *, starting_capital_usd: float, breach_level_usd: float,
                      n_trials: int | None = None, trials_daily_sharpe_variance: float = 0.0) -> PortfolioMetrics:
    """Every figure of one simulated portfolio (see the module docstring)."""
    daily = result.daily_pnl.to_numpy(dtype=np.float64)
    if daily.shape[0] == 0:
        raise ValueError("the simulation covers no trade date")
    trades = result.trades
    pnl = trades.pnl_usd.to_numpy(dtype=np.float64)
    drawdown = max_drawdown(daily, starting_capital_usd)
    period_end = int(result.positions.index[-1]) if len(result.positions) else 0
    entries = np.concatenate((trades.entry_ns.to_numpy(np.int64), result.still_open.entry_ns.to_numpy(np.int64)))
    exits = np.concatenate((trades.exit_ns.to_numpy(np.int64),
                            np.full(len(result.still_open), period_end, dtype=np.int64)))
    concurrency = concurrent_positions(entries.astype("datetime64[ns]"), exits.astype("datetime64[ns]"))
    dsr = None
    if n_trials is not None:
        dsr = deflated_sharpe(daily, n_trials, trials_daily_sharpe_variance) if daily.shape[0] >= 2 else math.nan
    return PortfolioMetrics(
        first_day=str(result.daily_pnl.index[0].date()), last_day=str(result.daily_pnl.index[-1].date()),
        trading_days=int(daily.shape[0]), trades=int(pnl.shape[0]), net_pnl_usd=float(daily.sum()),
        sharpe=_ratio(annualized_sharpe_ratio, daily), sortino=_ratio(annualized_sortino_ratio, daily),
        cagr=cagr(daily, starting_capital_usd), max_drawdown_usd=drawdown.usd,
        max_drawdown_fraction=drawdown.fraction_of_peak,
        breach_events=len(breach_events(daily, breach_level_usd)),
        daily_stops=int(len(result.stops)), daily_stop_days=int(result.stops.trading_day.nunique()),
        avg_concurrent_positions=concurrency.average, max_concurrent_positions=concurrency.max,
        profit_factor=profit_factor(pnl), win_rate=win_rate(pnl), deflated_sharpe=dsr)
