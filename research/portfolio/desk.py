"""The same portfolio under the conventions of a simpler simulator, one change at a time, to show
how much of a headline figure each convention adds.

1. ``mark_to_market``: this package's figures (daily P&L marked to market on trade dates,
   a daily stop closes positions at that bar's close).
2. ``exit_dates``: each trade's P&L booked on its exit's trade date, open positions not marked.
3. ``final_pnl_at_forced_close``: as 2, but a trade flattened by a daily stop is booked at the
   P&L it would have made held to its own exit (what booking "the trade's final P&L" at a forced
   close does: the stop cuts no loss and forgoes no gain).
4. ``calendar_days``: as 3, with the Sharpe ratio of calendar days (equity forward-filled over
   weekends and holidays, so those days add 0) annualised by sqrt(365).

Max drawdown is on end-of-day equity in every row.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from multialpha.research.portfolio.plan import PortfolioInputs
from multialpha.research.portfolio.result import DAILY_STOP, SimulationResult
from multialpha.research.stats import annualized_sharpe_ratio, daily_pnl, max_drawdown

CONVENTIONS = {
    "mark_to_market": "marked to market on trade dates; stops close at that bar's close",
    "exit_dates": "trade P&L on its exit date; open positions not marked",
    "final_pnl_at_forced_close": "and a stopped-out trade booked at its own final P&L",
    "calendar_days": "and Sharpe over forward-filled calendar days x sqrt(365)",
}


@dataclass(frozen=True)
class ConventionFigures:
    convention: str
    sharpe: float
    net_pnl_usd: float
    max_drawdown_usd: float


def final_pnl(result: SimulationResult, inputs: PortfolioInputs) -> np.ndarray:
    """Each trade's P&L, stopped-out trades replaced by their candidate's own final P&L."""
    t = result.trades
    pnl = t.pnl_usd.to_numpy(dtype=np.float64).copy()
    for i in np.nonzero((t.exit_reason == DAILY_STOP).to_numpy())[0].tolist():
        strategy, symbol, entry = t.strategy.iat[i], t.symbol.iat[i], int(t.entry_ns.iat[i])
        c = inputs.candidates[(strategy, symbol)]
        j = int(np.searchsorted(c.entry_ns, entry))
        own = float(c.net_pnl(inputs.contracts[symbol])[j])
        if math.isfinite(own):
            pnl[i] = own
    return pnl


def _sharpe(daily: np.ndarray, periods: float) -> float:
    return annualized_sharpe_ratio(daily, periods) if daily.shape[0] >= 2 else math.nan


def convention_figures(result: SimulationResult, inputs: PortfolioInputs,
                       starting_capital_usd: float) -> list[ConventionFigures]:
    """The four rows of the module docstring, in order."""
    days = [d.date() for d in result.daily_pnl.index]
    exits = result.trades.exit_ns.to_numpy(np.int64).astype("datetime64[ns]")
    mtm = result.daily_pnl.to_numpy(np.float64)
    on_exit = daily_pnl(exits, result.trades.pnl_usd.to_numpy(np.float64), days).to_numpy()
    booked = daily_pnl(exits, final_pnl(result, inputs), days)
    calendar = booked.reindex(pd.date_range(booked.index[0], booked.index[-1], freq="D"), fill_value=0.0)
    rows = []
    for key, daily, periods in (("mark_to_market", mtm, 252.0), ("exit_dates", on_exit, 252.0),
                                ("final_pnl_at_forced_close", booked.to_numpy(), 252.0),
                                ("calendar_days", calendar.to_numpy(), 365.0)):
        rows.append(ConventionFigures(key, _sharpe(daily, periods), float(daily.sum()),
                                      max_drawdown(daily, starting_capital_usd).usd))
    return rows
