"""Bars as plain arrays: the one in-memory shape every room passes around."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

BAR_SECONDS = 3600  # hourly bars, aligned to clock hours
NS_PER_SECOND = 1_000_000_000


def iso_utc(ts_ns: int) -> str:
    """An instant in ns UTC as ISO-8601 to the second, e.g. ``2024-03-01T15:00:00Z`` (for messages)."""
    return str(np.datetime_as_string(np.datetime64(int(ts_ns), "ns"), unit="s")) + "Z"


@dataclass(frozen=True)
class BarArrays:
    """Hourly OHLCV bars of one symbol, in time order.

    ``ts`` is the bar's *start* (open) time as int64 nanoseconds since the epoch, UTC, aligned
    to a clock hour (the Databento ``ts_event`` convention). A bar's decision time is its
    close, ``ts + 1h``. Prices and volume are float64. ``tick_size`` is the contract's price
    increment; the feature engine needs it (it works in whole ticks) and rejects prices off
    that grid. ``allows_negative_prices`` is the contract's (contracts.yml): without it the
    engine rejects prices <= 0.
    """

    symbol: str
    ts: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    tick_size: float | None = None
    allows_negative_prices: bool = False

    def __len__(self) -> int:
        return int(self.ts.shape[0])

    def tail(self, n: int) -> BarArrays:
        """The last ``n`` bars (views, no copies)."""
        s = slice(max(0, len(self) - n), None)
        return self.slice(s)

    def slice(self, s: slice) -> BarArrays:
        return BarArrays(self.symbol, self.ts[s], self.open[s], self.high[s], self.low[s],
                         self.close[s], self.volume[s], self.tick_size, self.allows_negative_prices)

    def with_tick_size(self, tick_size: float | None) -> BarArrays:
        """The same bars (no copies) with the contract's tick size attached."""
        return replace(self, tick_size=tick_size)

    def with_negative_prices(self, allowed: bool = True) -> BarArrays:
        """The same bars (no copies), marked as a contract whose prices may go negative."""
        return replace(self, allows_negative_prices=allowed)

    @property
    def close_ts(self) -> np.ndarray:
        """Decision (bar close) times, int64 ns UTC."""
        return self.ts + BAR_SECONDS * NS_PER_SECOND
