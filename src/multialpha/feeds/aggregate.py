"""Finer bars into hourly bars, the batch form (pure numpy).

Bars are labelled by their start: an input bar starting at 14:37 UTC belongs to the hourly
bar labelled 14:00, which covers [14:00, 15:00). Hours are UTC clock hours, the same hours
bar files use. Per hour: open of the first input bar, the highest high, the lowest low,
close of the last input bar, the summed volume. An hour without any input bar gives no
hourly bar; nothing is invented or carried forward.

The caller guarantees that input bars do not straddle an hour: their length divides an hour
and they start on a multiple of it (1-minute bars always do). A live aggregator applies the
same rule one bar at a time.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from multialpha.features.bars import BAR_SECONDS, NS_PER_SECOND

NS_PER_HOUR = BAR_SECONDS * NS_PER_SECOND


class HourlyBars(NamedTuple):
    """Hourly OHLCV arrays, labelled by the hour's start (int64 ns UTC)."""

    ts: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    inputs: np.ndarray  # how many input bars went into each hour


def hour_start(ts_ns: np.ndarray) -> np.ndarray:
    """The start of the UTC clock hour holding each instant (int64 ns)."""
    ts = np.asarray(ts_ns, dtype=np.int64)
    return ts - ts % NS_PER_HOUR  # numpy's % floors, so instants before 1970 work too


def aggregate_hourly(ts: np.ndarray, open_: np.ndarray, high: np.ndarray, low: np.ndarray,
                     close: np.ndarray, volume: np.ndarray) -> HourlyBars:
    """Hourly bars from finer bars given by their start times (strictly increasing int64 ns)."""
    ts = np.asarray(ts, dtype=np.int64)
    n = ts.shape[0]
    if any(np.shape(a) != (n,) for a in (open_, high, low, close, volume)):
        raise ValueError("ts, open, high, low, close and volume must be 1-d arrays of one length")
    if n and np.any(np.diff(ts) <= 0):
        raise ValueError("bar start times must be strictly increasing")
    if n == 0:
        empty = np.empty(0)
        return HourlyBars(np.empty(0, dtype=np.int64), empty, empty, empty, empty, empty,
                          np.empty(0, dtype=np.int64))
    hours = hour_start(ts)
    first = np.flatnonzero(np.r_[True, hours[1:] != hours[:-1]])
    last = np.r_[first[1:], n] - 1
    return HourlyBars(
        ts=hours[first],
        open=np.asarray(open_, dtype=np.float64)[first],
        high=np.maximum.reduceat(np.asarray(high, dtype=np.float64), first),
        low=np.minimum.reduceat(np.asarray(low, dtype=np.float64), first),
        close=np.asarray(close, dtype=np.float64)[last],
        volume=np.add.reduceat(np.asarray(volume, dtype=np.float64), first),
        inputs=last - first + 1,
    )
