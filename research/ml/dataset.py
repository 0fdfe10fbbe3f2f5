"""The rows a search may see, and the bars of the hold-out.

``search_set`` keeps the candidate trades (``extract_candidates``) that enter on or after the
train start and exit before the hold-out starts, with every candidate feature defined; nothing
from the hold-out period reaches the search, the feature selection or the threshold choice.
A trade still open when the hold-out starts is purged from the search (its label would be
decided inside the hold-out). Features are causal (a value at a bar uses bars starting at or
before it), so the hold-out's bars change none of the search rows either.

Daily P&L is counted on the CME trade dates of the period (``calendar``): a trade's P&L
belongs to the trade date of its exit; a trade date without an exit is 0; nothing else is a
day, nothing is forward-filled.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
from multialpha.research.errors import ResearchError
from multialpha.research.ml.extract import Candidates
from multialpha.research.ml.settings import Periods

from multialpha.calendar import day_number, from_day_number, next_trade_date, previous_trade_date
from multialpha.features import BarArrays, trading_day_ids


class _TradeDates:
    """The first and last trade date of a period held as ``calendar`` (CME day numbers)."""

    calendar: np.ndarray

    @property
    def first_day(self) -> date:
        return from_day_number(int(self.calendar[0]))

    @property
    def last_day(self) -> date:
        return from_day_number(int(self.calendar[-1]))


@dataclass(frozen=True)
class SearchSet(_TradeDates):
    """Candidate trades of the search period, sorted by entry, with their features and days."""

    symbol: str
    features: tuple[str, ...]  # the columns of X
    X: np.ndarray  # float32 (n, len(features)), all finite
    label: np.ndarray  # int64: 1 if the trade's net P&L > 0
    pnl: np.ndarray  # USD after commission
    spans: np.ndarray  # int64 (n, 2): entry and exit bar index (the label's span, for purging)
    entry_ns: np.ndarray
    exit_ns: np.ndarray
    calendar: np.ndarray  # int64 day numbers (days since 1970-01-01) of the period's trade dates
    entry_day: np.ndarray  # position in ``calendar`` of each trade's entry trade date
    exit_day: np.ndarray  # position in ``calendar`` of each trade's exit trade date

    def __len__(self) -> int:
        return int(self.label.shape[0])

    def columns(self, names: tuple[str, ...] | list[str]) -> np.ndarray:
        """Column indices of ``names`` in ``X``."""
        where = {n: i for i, n in enumerate(self.features)}
        return np.array([where[n] for n in names], dtype=np.int64)


def trade_dates_between(first: date, last: date) -> np.ndarray:
    """Day numbers of the CME trade dates from ``first`` to ``last``, both inclusive."""
    out = []
    d = next_trade_date(first)
    while d <= last:
        out.append(day_number(d))
        d = next_trade_date(d + timedelta(days=1))
    return np.asarray(out, dtype=np.int64)


def search_set(cand: Candidates, bars: BarArrays, periods: Periods, *, context: str) -> SearchSet:
    """The candidates the search may use (see the module docstring)."""
    if len(bars) == 0:
        raise ResearchError(f"{context}: no bars")
    days = trading_day_ids(bars.close_ts)
    first_bar_day = from_day_number(int(days[0]))
    start = max(periods.train_start or first_bar_day, first_bar_day)
    end = previous_trade_date(periods.holdout_start)  # the search's last trade date
    if start > end:
        raise ResearchError(f"{context}: no bars before the hold-out start {periods.holdout_start} (the bars "
                            f"begin on trade date {first_bar_day}); move --holdout-start later")
    entry_day, exit_day = days[cand.entry_idx], days[cand.exit_idx]
    keep = ((entry_day >= day_number(start)) & (exit_day <= day_number(end))
            & np.all(np.isfinite(cand.X), axis=1))
    calendar = trade_dates_between(start, end)
    rows = np.nonzero(keep)[0]
    return SearchSet(
        symbol=cand.symbol, features=cand.features,
        X=np.ascontiguousarray(cand.X[rows], dtype=np.float32), label=cand.label[rows],
        pnl=cand.pnl[rows], spans=np.column_stack([cand.entry_idx[rows], cand.exit_idx[rows]]),
        entry_ns=cand.entry_ns[rows], exit_ns=cand.exit_ns[rows], calendar=calendar,
        entry_day=np.searchsorted(calendar, entry_day[rows]), exit_day=np.searchsorted(calendar, exit_day[rows]))


@dataclass(frozen=True)
class HoldoutBars(_TradeDates):
    """The bars a hold-out run steps over: history for warm-up, then the hold-out itself."""

    bars: BarArrays  # up to the hold-out end
    first_bar: int  # index of the first bar whose trade date is on or after the hold-out start
    calendar: np.ndarray  # day numbers of the hold-out's trade dates


def holdout_bars(bars: BarArrays, periods: Periods, *, context: str) -> HoldoutBars:
    """The bars from the start of the data to the hold-out end, and where the hold-out begins."""
    days = trading_day_ids(bars.close_ts)
    first = int(np.searchsorted(days, day_number(periods.holdout_start)))
    stop = len(bars) if periods.holdout_end is None else int(
        np.searchsorted(days, day_number(periods.holdout_end), side="right"))
    if first >= stop:
        last = from_day_number(int(days[-1])) if len(bars) else None
        raise ResearchError(f"{context}: no bars in the hold-out from {periods.holdout_start}"
                            f"{'' if periods.holdout_end is None else f' to {periods.holdout_end}'} "
                            f"(the bars end on trade date {last}); move --holdout-start earlier")
    window = bars.slice(slice(0, stop))
    calendar = trade_dates_between(from_day_number(int(days[first])), from_day_number(int(days[stop - 1])))
    return HoldoutBars(window, first, calendar)
