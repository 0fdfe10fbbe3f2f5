"""Bounded per-symbol bar history with O(1) appends and contiguous tails."""

from __future__ import annotations

import numpy as np

from multialpha.domain import Bar
from multialpha.features.bars import BarArrays

_FIELDS = ("ts", "open", "high", "low", "close", "volume")


class _Ring:
    """Keeps the last ``capacity`` bars; each bar is written twice so any tail is one slice."""

    def __init__(self, symbol: str, capacity: int) -> None:
        self.symbol = symbol
        self.capacity = capacity
        self.count = 0
        self.ts = np.zeros(2 * capacity, dtype=np.int64)
        self.cols = {f: np.zeros(2 * capacity, dtype=np.float64) for f in _FIELDS[1:]}

    def append(self, ts_ns: int, bar: Bar) -> None:
        i = self.count % self.capacity
        for j in (i, i + self.capacity):
            self.ts[j] = ts_ns
            self.cols["open"][j] = bar.open
            self.cols["high"][j] = bar.high
            self.cols["low"][j] = bar.low
            self.cols["close"][j] = bar.close
            self.cols["volume"][j] = bar.volume
        self.count += 1

    def view(self) -> BarArrays:
        n = min(self.count, self.capacity)
        end = (self.count - 1) % self.capacity + self.capacity + 1 if self.count else 0
        s = slice(end - n, end)
        c = self.cols
        return BarArrays(self.symbol, self.ts[s], c["open"][s], c["high"][s], c["low"][s],
                         c["close"][s], c["volume"][s])


class BarHistory:
    """The recent bars of every symbol a worker sees (traded and reference)."""

    def __init__(self, symbols: list[str], capacity: int) -> None:
        if capacity < 1:
            raise ValueError("capacity must be >= 1")
        self._rings = {s: _Ring(s, capacity) for s in symbols}

    def append(self, symbol: str, ts_ns: int, bar: Bar) -> None:
        self._rings[symbol].append(ts_ns, bar)

    def bars(self, symbol: str) -> BarArrays:
        """The last ``capacity`` bars of ``symbol`` (views: valid until the next append)."""
        return self._rings[symbol].view()

    def count(self, symbol: str) -> int:
        return self._rings[symbol].count
