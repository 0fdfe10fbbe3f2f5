"""Minute (or hour) OHLCV records into hourly bars: the one aggregation live and history share.

Bars are aligned like the bar files: an hour is a UTC clock hour labelled by its start, and a
record belongs to the hour that holds its ``ts_event`` (Databento stamps an OHLCV record with
the start of its interval). Open is the first record's open, close the last record's close,
high and low the extremes, volume the sum; prices stay in DBN's integer 1e-9 units until the
bar is emitted (see ``prices``). A symbol with no record in an hour gets no bar for that hour:
nothing is forward-filled and no volume is invented.

Records must arrive in time order across symbols, as a Databento stream or file delivers
them. An hour is complete, and emitted exactly once, when

* a record of a later hour arrives (for any symbol), or
* ``close_through(t)`` says every record of intervals ending at or before ``t`` has been seen
  (the gateway's end-of-interval message, or the clock past the hour end plus a grace), or
* ``flush()`` ends the input (the end of a file or of a historical response).

Once an hour is closed, time never runs backwards: a record for it is dropped and counted as
``late``; a record for a symbol at or before that symbol's last accepted ``ts_event`` (a
replay overlap after a reconnect) is dropped and counted as a ``duplicate``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from multialpha.domain import Bar
from multialpha.features.bars import BAR_SECONDS, NS_PER_SECOND, iso_utc
from multialpha.feeds.prices import PriceGrid

HOUR_NS = BAR_SECONDS * NS_PER_SECOND

log = logging.getLogger(__name__)


def hour_start(ts_ns: int) -> int:
    """Start of the UTC clock hour holding ``ts_ns``."""
    return ts_ns - ts_ns % HOUR_NS


@dataclass(frozen=True)
class CompletedHour:
    """Every symbol's bar of one hour; ``ts_ns`` is the hour's start (ns UTC)."""

    ts_ns: int
    bars: Mapping[str, Bar]


class _Acc:
    __slots__ = ("open", "high", "low", "close", "volume")

    def __init__(self, open_: int, high: int, low: int, close: int, volume: int) -> None:
        self.open, self.high, self.low, self.close, self.volume = open_, high, low, close, volume


class HourlyAggregator:
    """Streams OHLCV records into complete hourly bars (see the module docstring for the rules).

    ``tick_sizes`` snaps each symbol's prices to its tick grid; a symbol without one is
    converted exactly without snapping. ``open_from_ns`` refuses records of earlier hours
    (already delivered from elsewhere, e.g. warm-up files).
    """

    def __init__(self, tick_sizes: Mapping[str, float | None] | None = None, *,
                 open_from_ns: int | None = None) -> None:
        self._ticks = dict(tick_sizes or {})
        self._grids: dict[str, PriceGrid] = {}
        self._hour: int | None = None  # the hour being built
        self._accs: dict[str, _Acc] = {}
        self._last_ts: dict[str, int] = {}
        self._open_from = None if open_from_ns is None else hour_start(open_from_ns)
        self.duplicates = 0
        self.late = 0

    @property
    def open_from_ns(self) -> int | None:
        """The earliest hour that can still take records (every earlier hour is closed)."""
        return self._open_from

    def add(self, symbol: str, ts_ns: int, open_: int, high: int, low: int, close: int,
            volume: int) -> list[CompletedHour]:
        """Take one record (prices in 1e-9 units); returns the hours it completed."""
        last = self._last_ts.get(symbol)
        if last is not None and ts_ns <= last:
            self.duplicates += 1
            return []
        hour = hour_start(ts_ns)
        if self._open_from is not None and hour < self._open_from:
            self.late += 1
            log.warning("feed.late_record symbol=%s ts=%s: its hour %s was already closed",
                        symbol, iso_utc(ts_ns), iso_utc(hour))
            return []
        done: list[CompletedHour] = []
        if self._hour is not None and hour > self._hour:
            done = self._close()
        if self._hour is None:
            self._hour = hour
            self._open_from = hour
        self._last_ts[symbol] = ts_ns
        acc = self._accs.get(symbol)
        if acc is None:
            self._accs[symbol] = _Acc(open_, high, low, close, volume)
        else:
            acc.high = max(acc.high, high)
            acc.low = min(acc.low, low)
            acc.close = close
            acc.volume += volume
        return done

    def close_through(self, end_ns: int) -> list[CompletedHour]:
        """Every record of intervals ending at or before ``end_ns`` is in: close those hours,
        including ones that saw no record (a record for them later is late)."""
        done: list[CompletedHour] = []
        if self._hour is not None and self._hour + HOUR_NS <= end_ns:
            done = self._close()
        boundary = hour_start(end_ns)
        if self._open_from is None or boundary > self._open_from:
            self._open_from = boundary
        return done

    def flush(self) -> list[CompletedHour]:
        """The input ended: emit the hour being built."""
        return self._close()

    def _close(self) -> list[CompletedHour]:
        if self._hour is None:
            return []
        hour, accs = self._hour, self._accs
        self._hour, self._accs = None, {}
        self._open_from = hour + HOUR_NS
        if not accs:
            return []
        bars = {s: self._bar(s, a) for s, a in accs.items()}
        return [CompletedHour(hour, bars)]

    def _bar(self, symbol: str, acc: _Acc) -> Bar:
        grid = self._grids.get(symbol)
        if grid is None:
            grid = self._grids[symbol] = PriceGrid(self._ticks.get(symbol))
        return Bar(grid.to_float(acc.open), grid.to_float(acc.high), grid.to_float(acc.low),
                   grid.to_float(acc.close), float(acc.volume))
