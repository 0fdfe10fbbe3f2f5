"""A reference symbol's features, computed once and joined as of each bar of any other symbol.

A cross-instrument feature ``R_suffix`` at a bar of symbol S is reference R's engine value after
R's last bar starting at or before that bar (no look-ahead). That value depends on R's bars
alone, so research runs R through the engine once, keeps its four reference values after each
of its bars, and every traded symbol picks its rows by time: the same numbers as feeding R
alongside each symbol, without paying for R once per symbol.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from multialpha.features import compiled
from multialpha.features.bars import BarArrays
from multialpha.features.catalog import REF_SUFFIXES
from multialpha.features.kernel import REF_CODES

_CODES = np.array([REF_CODES[s] for s in REF_SUFFIXES], dtype=np.int64)
_COLS = np.arange(len(REF_SUFFIXES), dtype=np.int64)
_CODE_COL = {REF_CODES[s]: k for k, s in enumerate(REF_SUFFIXES)}


@dataclass(frozen=True)
class ReferenceFeatures:
    """Reference ``symbol``'s values of every suffix in REF_SUFFIXES after each of its bars."""

    symbol: str
    ts: np.ndarray  # int64 bar start times, ns UTC, strictly increasing
    values: np.ndarray  # float64, (len(ts), len(REF_SUFFIXES))

    def __len__(self) -> int:
        return int(self.ts.shape[0])

    def asof(self, ts: np.ndarray, suffixes: list[str]) -> np.ndarray:
        """Shape (len(ts), len(suffixes)): the values after the last bar starting at or before
        each ``ts`` (increasing); NaN where no bar had started yet."""
        out = np.empty((len(ts), len(suffixes)))
        self.join(ts, [REF_CODES[s] for s in suffixes], out, np.arange(len(suffixes), dtype=np.int64))
        return out

    def join(self, ts: np.ndarray, codes: Sequence[int] | np.ndarray, out: np.ndarray, cols: np.ndarray) -> None:
        """``asof`` of the reference features with these kernel codes (a plan group's), written
        straight into columns ``cols`` of ``out`` (float64, C order)."""
        src = np.array([_CODE_COL[int(c)] for c in codes], dtype=np.int64)
        compiled.join_asof(np.ascontiguousarray(ts, dtype=np.int64), self.ts, self.values, src,
                           np.ascontiguousarray(cols, dtype=np.int64), out)


def reference_features(bars: BarArrays, until_ns: int | None = None) -> ReferenceFeatures:
    """Run ``bars`` (those starting at or before ``until_ns``, when given) through a fresh engine.

    Compute this once per reference and pass it to ``compute_features`` for every symbol.
    ``bars`` need a tick size; a refused bar raises ValueError naming the symbol and the bar.
    """
    if until_ns is not None:
        bars = bars.slice(slice(0, int(np.searchsorted(bars.ts, until_ns, side="right"))))
    tick = compiled.checked_tick_size(bars.symbol, bars.tick_size)
    values = compiled.run_series(bars, tick, _CODES, _COLS, 0, len(_CODES))
    return ReferenceFeatures(bars.symbol, np.ascontiguousarray(bars.ts, dtype=np.int64), values)
