"""Performance of a list of closed trades in USD, on the exchange's trading days.

Conventions:

* A trade's P&L (net of costs) belongs to the CME trading day of its exit
  (``multialpha.calendar.trading_day``: the day rolls at 17:00 America/Chicago). The daily
  series has one row per day of the calendar passed in; a calendar day with no exit is 0, a day
  outside the calendar (weekend, holiday) never appears, and nothing is forward-filled.
* Sharpe (``annualized_sharpe_ratio``): mean / sample standard deviation (``ddof=1``) of daily
  USD P&L, times ``sqrt(252)``. Sortino (``annualized_sortino_ratio``): mean daily P&L over the
  downside deviation against 0, ``sqrt(mean(min(p, 0)**2))`` over all days (a day with a gain
  counts as 0), times ``sqrt(252)``. Both are NaN for a flat series.
* CAGR: ``(final equity / starting capital) ** (252 / n_days) - 1``, equity being the starting
  capital plus the running P&L and ``n_days`` the number of trading days; -1 once equity <= 0.
* Drawdowns are measured on the equity after each step of the P&L series passed (end of day
  for daily P&L, after each exit for per-trade P&L); the starting capital is the first peak.
  The fraction is ``(peak - equity) / peak`` with peak = starting capital + running P&L peak.
* A drawdown episode starts when equity falls below its running peak and ends at the first
  step that equity is back at or above that peak; a breach event is an episode whose depth
  goes strictly beyond the dollar level, so an episode counts once however often it crosses
  the level, and one still open at the end of the series counts if it went beyond it.
* Ratios are fractions (0.25 means 25 %). Times may be datetimes/Timestamps, datetime64 or
  int64 ns since the epoch; naive values are read as UTC.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
from multialpha.research.stats.sharpe import annualized_sharpe_ratio, annualized_sortino_ratio
from numpy.typing import ArrayLike

from multialpha.calendar import trading_day

TRADING_DAYS_PER_YEAR = 252


@dataclass(frozen=True)
class Drawdown:
    """Deepest fall of equity below its running peak, in USD and as a fraction of that peak."""

    usd: float
    fraction_of_peak: float


@dataclass(frozen=True)
class DrawdownEpisode:
    """One fall below a running peak and its recovery; positions index the P&L series."""

    peak_pos: int  # last step at the peak; -1 when the peak is the starting capital
    trough_pos: int  # first step at the episode's lowest equity
    recovery_pos: int | None  # first step back at or above the peak; None if never recovered
    depth_usd: float  # peak minus the lowest equity


@dataclass(frozen=True)
class Concurrency:
    """Open positions over time; a position is open on ``[entry, exit)``."""

    average: float  # time-weighted, from the first entry to the last exit
    max: int


@dataclass(frozen=True)
class PerformanceSummary:
    """The figures of one trade list; see the module docstring for each convention."""

    trade_count: int
    net_pnl_usd: float
    sharpe: float
    sortino: float
    cagr: float
    max_drawdown_usd: float
    max_drawdown_fraction: float
    breach_events: int
    profit_factor: float
    win_rate: float
    avg_concurrent_positions: float
    max_concurrent_positions: int


def _pnl(pnl_usd: ArrayLike, name: str = "pnl_usd") -> np.ndarray:
    p = np.asarray(pnl_usd, dtype=np.float64)
    if p.ndim != 1:
        raise ValueError(f"{name}: expected a 1-d series, got shape {p.shape}")
    if not np.all(np.isfinite(p)):
        raise ValueError(f"{name}: every value must be finite")
    return p


def _instants(times: ArrayLike, name: str) -> pd.DatetimeIndex:
    arr = np.asarray(times).ravel()
    if arr.dtype.kind in "US" or (arr.dtype.kind == "O" and any(isinstance(v, str) for v in arr)):
        raise ValueError(f"{name}: expected times, got text")
    try:
        idx = pd.DatetimeIndex(pd.to_datetime(arr, utc=True))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name}: expected times ({exc})") from None
    if idx.hasnans:
        raise ValueError(f"{name}: missing time at position {int(np.argmax(idx.isna()))}")
    return idx.as_unit("ns")  # one unit, whatever the input's resolution, so instants compare


def _capital(starting_capital_usd: float) -> float:
    if not (math.isfinite(starting_capital_usd) and starting_capital_usd > 0):
        raise ValueError(f"starting_capital_usd must be positive, got {starting_capital_usd!r}")
    return float(starting_capital_usd)


def trade_dates(exit_times: ArrayLike) -> list[date]:
    """CME trading day of each exit time."""
    return [trading_day(ts.to_pydatetime()) for ts in _instants(exit_times, "exit_times")]


def daily_pnl(exit_times: ArrayLike, pnl_usd: ArrayLike, trading_days: Iterable[date]) -> pd.Series:
    """Net USD P&L per trading day of ``trading_days``, 0 on a trading day without an exit.

    Indexed by the trading days (a ``DatetimeIndex`` named ``trading_day``), in order. An exit
    on a trading day missing from ``trading_days`` is an error, not a dropped trade.
    """
    pnl = _pnl(pnl_usd)
    try:
        calendar = {pd.Timestamp(d).date() for d in trading_days}
    except (TypeError, ValueError) as exc:
        raise ValueError(f"trading_days: expected dates ({exc})") from None
    if not calendar:
        raise ValueError("trading_days: the calendar is empty")
    days = pd.DatetimeIndex(sorted(calendar), name="trading_day")
    exits = trade_dates(exit_times)
    if len(exits) != pnl.shape[0]:
        raise ValueError(f"pnl_usd: {pnl.shape[0]} values for {len(exits)} exit_times")
    pos = days.get_indexer(pd.DatetimeIndex([pd.Timestamp(d) for d in exits]))
    if np.any(pos < 0):
        i = int(np.argmax(pos < 0))
        raise ValueError(f"exit_times: trade {i} exits on trading day {exits[i].isoformat()}, which is not "
                         f"in trading_days ({days[0].date()} to {days[-1].date()})")
    out = np.zeros(len(days))
    np.add.at(out, pos, pnl)
    return pd.Series(out, index=days, name="pnl_usd")


def cagr(daily_pnl_usd: ArrayLike, starting_capital_usd: float) -> float:
    """Compound annual growth of equity over ``len(daily_pnl_usd)`` trading days (252 a year)."""
    p = _pnl(daily_pnl_usd, "daily_pnl_usd")
    capital = _capital(starting_capital_usd)
    if p.shape[0] == 0:
        raise ValueError("daily_pnl_usd: need at least 1 day")
    final = capital + float(p.sum())
    if final <= 0:
        return -1.0
    return (final / capital) ** (TRADING_DAYS_PER_YEAR / p.shape[0]) - 1.0


def max_drawdown(pnl_usd: ArrayLike, starting_capital_usd: float) -> Drawdown:
    """Largest drawdown in USD and largest as a fraction of the peak (they may differ in time)."""
    p = _pnl(pnl_usd)
    capital = _capital(starting_capital_usd)
    equity = capital + np.concatenate(([0.0], np.cumsum(p)))
    peak = np.maximum.accumulate(equity)
    fall = peak - equity
    return Drawdown(usd=float(fall.max()), fraction_of_peak=float((fall / peak).max()))


def drawdown_episodes(pnl_usd: ArrayLike) -> list[DrawdownEpisode]:
    """Every drawdown episode of a P&L series, in time order (see the module docstring)."""
    p = _pnl(pnl_usd)
    episodes: list[DrawdownEpisode] = []
    equity, peak, peak_pos = 0.0, 0.0, -1
    trough, trough_pos = 0.0, -1
    in_episode = False
    for i, step in enumerate(p):
        equity += float(step)
        if in_episode:
            if equity >= peak:
                episodes.append(DrawdownEpisode(peak_pos, trough_pos, i, peak - trough))
                in_episode = False
            elif equity < trough:
                trough, trough_pos = equity, i
        elif equity < peak:
            in_episode, trough, trough_pos = True, equity, i
        if not in_episode and equity >= peak:
            peak, peak_pos = equity, i
    if in_episode:
        episodes.append(DrawdownEpisode(peak_pos, trough_pos, None, peak - trough))
    return episodes


def breach_events(pnl_usd: ArrayLike, level_usd: float) -> list[DrawdownEpisode]:
    """Drawdown episodes whose depth goes strictly beyond ``level_usd`` (one event each)."""
    if not (math.isfinite(level_usd) and level_usd > 0):
        raise ValueError(f"level_usd must be a positive dollar amount, got {level_usd!r}")
    return [e for e in drawdown_episodes(pnl_usd) if e.depth_usd > level_usd]


def profit_factor(pnl_usd: ArrayLike) -> float:
    """Gross profit over gross loss: infinite with gains and no loss, NaN with neither."""
    p = _pnl(pnl_usd)
    gains, losses = float(p[p > 0].sum()), float(-p[p < 0].sum())
    if losses == 0:
        return math.inf if gains > 0 else math.nan
    return gains / losses


def win_rate(pnl_usd: ArrayLike) -> float:
    """Share of trades with a positive P&L (a flat trade is not a win); NaN without trades."""
    p = _pnl(pnl_usd)
    return float((p > 0).mean()) if p.shape[0] else math.nan


def concurrent_positions(entry_times: ArrayLike, exit_times: ArrayLike) -> Concurrency:
    """Average (time-weighted) and maximum number of positions open at once.

    A position is open on ``[entry, exit)``: one exiting when another enters does not overlap
    it. The average is the total time held over the time from the first entry to the last
    exit (NaN when that is zero, 0 without trades).
    """
    start = _instants(entry_times, "entry_times").asi8
    end = _instants(exit_times, "exit_times").asi8
    if start.shape != end.shape:
        raise ValueError(f"exit_times: {end.shape[0]} exits for {start.shape[0]} entry_times")
    if np.any(end < start):
        i = int(np.argmax(end < start))
        raise ValueError(f"exit_times: trade {i} exits before it enters")
    if start.shape[0] == 0:
        return Concurrency(average=0.0, max=0)
    # Exits sort before entries at the same instant (-1 < +1), which makes the span half-open.
    times = np.concatenate((end, start))
    steps = np.concatenate((np.full(end.shape, -1), np.full(start.shape, 1)))
    order = np.lexsort((steps, times))
    peak = int(np.cumsum(steps[order]).max())
    period = int(end.max() - start.min())
    held = float(np.sum(end - start, dtype=np.float64))
    return Concurrency(average=held / period if period > 0 else math.nan, max=peak)


def summarize_trades(entry_times: ArrayLike, exit_times: ArrayLike, pnl_usd: ArrayLike, *,
                     trading_days: Iterable[date], starting_capital_usd: float,
                     breach_level_usd: float) -> PerformanceSummary:
    """Every figure of this module for one trade list; drawdowns and breaches on daily P&L."""
    pnl = _pnl(pnl_usd)
    daily = daily_pnl(exit_times, pnl, trading_days)
    drawdown = max_drawdown(daily, starting_capital_usd)
    concurrency = concurrent_positions(entry_times, exit_times)
    return PerformanceSummary(
        trade_count=int(pnl.shape[0]),
        net_pnl_usd=float(pnl.sum()),
        sharpe=annualized_sharpe_ratio(daily, TRADING_DAYS_PER_YEAR),
        sortino=annualized_sortino_ratio(daily, TRADING_DAYS_PER_YEAR),
        cagr=cagr(daily, starting_capital_usd),
        max_drawdown_usd=drawdown.usd,
        max_drawdown_fraction=drawdown.fraction_of_peak,
        breach_events=len(breach_events(daily, breach_level_usd)),
        profit_factor=profit_factor(pnl),
        win_rate=win_rate(pnl),
        avg_concurrent_positions=concurrency.average,
        max_concurrent_positions=concurrency.max,
    )
