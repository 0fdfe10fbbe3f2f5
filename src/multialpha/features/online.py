"""The live side of the feature engine: one compiled engine per symbol, updated bar by bar.

``OnlineFeatures.update`` costs the same at the millionth bar as at the first (fixed rings and
integer sums, no history kept), and ``row`` reads the values at the last bar. Research's
``compute_features`` runs the very same compiled update, so a live row equals the research
row of the same bar bit for bit once the engines have seen ``REQUIRED_HISTORY_BARS`` bars.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence

import numpy as np

from multialpha.features import compiled, kernel
from multialpha.features.daily import trade_day_table
from multialpha.features.plan import FeaturePlan, plan_features, unknown_error

_MAX_PLANS = 64  # distinct name lists remembered per engine (one per model bundle in practice)


class OnlineFeatures:
    """One symbol's features, updated in O(1) per bar."""

    def __init__(self, symbol: str, tick_size: float, allows_negative_prices: bool = False) -> None:
        self.symbol = symbol
        self.tick_size = compiled.checked_tick_size(symbol, tick_size)
        self.allows_negative_prices = bool(allows_negative_prices)
        self._state = kernel.new_states([self.tick_size], [self.allows_negative_prices])
        self._days = trade_day_table()
        self._plans: dict[tuple[str, ...], FeaturePlan] = {}

    @property
    def bars_seen(self) -> int:
        return int(self._state["n"][0])

    @property
    def last_ts(self) -> int | None:
        """Start time (ns UTC) of the last bar seen, or None before the first."""
        return int(self._state["last_ts"][0]) if self.bars_seen else None

    def update(self, ts_ns: int, open_: float, high: float, low: float, close: float, volume: float) -> None:
        """Take the next bar. A refused bar (off the tick grid, not after the last one, a
        fractional volume, a price <= 0 for a contract whose prices may not go negative)
        raises ValueError naming the symbol, the bar time and the value, and leaves the
        engine as it was."""
        status = compiled.update(self._state, self._days, ts_ns, open_, high, low, close, volume)
        if status != kernel.OK:
            raise compiled.refusal(self.symbol, self.tick_size, status, ts_ns,
                                 (open_, high, low, close, volume), self.last_ts)

    def atr(self) -> float:
        """ATR(14) in price units at the last bar (NaN before 15 bars); equals research's
        ``multialpha.strategy.indicators.atr_series`` at the same bar."""
        return float(compiled.atr(self._state))

    def row(self, names: Sequence[str], refs: Mapping[str, OnlineFeatures] | None = None) -> np.ndarray:
        """Features ``names`` at the last bar, shape (len(names),); NaN where history is missing.

        A reference feature ``R_...`` reads ``refs[R]`` as of its last bar, which must not
        start after this engine's last bar.
        """
        refs = {} if refs is None else refs
        plan = self._plan(names, refs)
        out = np.empty(plan.width)
        compiled.fill(self._state, plan.own.codes, plan.own.cols, out)
        for symbol, group in plan.refs.items():
            ref = refs.get(symbol)
            if ref is None:  # the same names as before, now without this reference
                raise unknown_error(names, refs) or ValueError(f"no reference {symbol!r} given")
            if compiled.fill_ref(self._state, ref._state, group.codes, group.cols, out):
                raise ValueError(f"{symbol} has a bar starting after {self.symbol}'s last bar: "
                                 "features would look ahead")
        return out

    def _plan(self, names: Sequence[str], refs: Mapping[str, OnlineFeatures]) -> FeaturePlan:
        key = tuple(names)
        plan = self._plans.get(key)
        if plan is None:
            plan = plan_features(key, refs)
            if len(self._plans) >= _MAX_PLANS:
                self._plans.clear()
            self._plans[key] = plan
        return plan


class FeatureBook(Mapping[str, OnlineFeatures]):
    """The engines of every symbol a worker sees (traded and reference), by symbol."""

    def __init__(self, tick_sizes: Mapping[str, float], negative_prices: Collection[str] = ()) -> None:
        """One engine per symbol of ``tick_sizes``; those in ``negative_prices`` (contracts
        whose prices may go negative) take prices <= 0."""
        self._engines = {s: OnlineFeatures(s, t, s in negative_prices) for s, t in tick_sizes.items()}

    def __getitem__(self, symbol: str) -> OnlineFeatures:
        return self._engines[symbol]

    def __iter__(self) -> Iterator[str]:
        return iter(self._engines)

    def __len__(self) -> int:
        return len(self._engines)

    def update(self, symbol: str, ts_ns: int, open_: float, high: float, low: float, close: float,
               volume: float) -> None:
        self._engines[symbol].update(ts_ns, open_, high, low, close, volume)

    def row(self, symbol: str, names: Sequence[str]) -> np.ndarray:
        """``symbol``'s features ``names`` now; any other symbol in the book can be a reference."""
        return self._engines[symbol].row(names, self._engines)
