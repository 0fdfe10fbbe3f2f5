"""Replay: bar files merged into one time-ordered stream of bar groups."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime, timedelta

import numpy as np

from multialpha.domain import Bar, BarGroup
from multialpha.features.bars import BAR_SECONDS, NS_PER_SECOND, BarArrays
from multialpha.features.daily import exchange_minutes, trading_day_ids
from multialpha.feeds.source import FeedStatus

_EPOCH = date(1970, 1, 1)


def _day_id(day: date) -> int:
    return (day - _EPOCH).days


def _close_time(ts_ns: int) -> datetime:
    return datetime.fromtimestamp(ts_ns / NS_PER_SECOND, tz=UTC) + timedelta(seconds=BAR_SECONDS)


class ReplaySource:
    """Every symbol's bars, grouped by bar start time, oldest first.

    Orders may go out from the first trading day ``start`` on (or after the first
    ``warmup_bars`` bar times when no start is given), and never for a bar time at or before
    ``resume_after_ns`` (processed before a restart). Before that, ``warmup_bars`` bar times
    are replayed as warm-up: strategies build their state but never send an order.
    """

    def __init__(self, bars: Mapping[str, BarArrays], *, warmup_bars: int,
                 start: date | None = None, end: date | None = None,
                 resume_after_ns: int | None = None) -> None:
        if warmup_bars < 0:
            raise ValueError("warmup_bars must be >= 0")
        self._bars = dict(bars)
        symbols = list(self._bars)
        ts = np.concatenate([self._bars[s].ts for s in symbols]) if symbols else np.zeros(0, np.int64)
        owner = np.concatenate([np.full(len(self._bars[s]), i, np.int32) for i, s in enumerate(symbols)]) \
            if symbols else np.zeros(0, np.int32)
        row = np.concatenate([np.arange(len(self._bars[s])) for s in symbols]) if symbols else np.zeros(0, np.int64)
        order = np.argsort(ts, kind="stable")
        self._ts, self._owner, self._row = ts[order], owner[order], row[order]
        self._symbols = symbols
        times = np.unique(self._ts)
        # Each bar time's close, its CME trading day and its exchange minute, once for all bar times.
        closes = times + BAR_SECONDS * NS_PER_SECOND
        days = trading_day_ids(closes)
        if end is not None:
            keep = days <= _day_id(end)
            times, closes, days = times[keep], closes[keep], days[keep]
        # Trading days never decrease with time: the first live bar time is a binary search.
        first_live = min(warmup_bars, len(times)) if start is None else \
            int(np.searchsorted(days, _day_id(start), side="left"))
        if resume_after_ns is not None:  # after a restart: bar times already processed are warm-up
            first_live = max(first_live, int(np.searchsorted(times, resume_after_ns, side="right")))
        keep_from = max(0, first_live - warmup_bars)
        self._times, self._days = times[keep_from:], days[keep_from:]
        self._minutes = exchange_minutes(closes[keep_from:])
        self._first_live_ts = int(times[first_live]) if first_live < len(times) else None
        self._closed = False
        self._last: datetime | None = None

    @property
    def symbols(self) -> list[str]:
        return list(self._symbols)

    @property
    def is_live(self) -> bool:
        return False

    def status(self) -> FeedStatus:
        return FeedStatus(live=False, connected=not self._closed, last_bar_time=self._last)

    def close(self) -> None:
        self._closed = True

    @property
    def first_live_time(self) -> datetime | None:
        return None if self._first_live_ts is None else _close_time(self._first_live_ts)

    def __len__(self) -> int:
        return len(self._times)

    def groups(self, *, skip_before_ns: int | None = None) -> Iterator[BarGroup]:
        """Bar groups in time order; ``skip_before_ns`` drops bar times already processed."""
        lo = int(np.searchsorted(self._ts, self._times[0])) if len(self._times) else 0
        seq = 0
        for t, day, minute in zip(self._times, self._days, self._minutes, strict=True):
            if self._closed:
                return
            hi = int(np.searchsorted(self._ts, t, side="right"))
            if skip_before_ns is not None and t < skip_before_ns:
                lo = hi
                continue
            members = {}
            for k in range(lo, hi):
                b = self._bars[self._symbols[self._owner[k]]]
                r = self._row[k]
                members[b.symbol] = Bar(float(b.open[r]), float(b.high[r]), float(b.low[r]),
                                        float(b.close[r]), float(b.volume[r]))
            lo = hi
            self._last = _close_time(int(t))
            yield BarGroup(seq=seq, ts_ns=int(t), close_time=self._last,
                           trading_day=_EPOCH + timedelta(days=int(day)), close_minute=int(minute),
                           historical=self._first_live_ts is None or int(t) < self._first_live_ts,
                           bars=members)
            seq += 1
