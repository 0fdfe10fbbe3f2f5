"""The feature engine over bar arrays: named features of a symbol's hourly bars, for research.

Every row comes from the compiled per-bar update the live strategy runs (``kernel``), fed the
bars one by one in time order, so research and live compute each feature with the same code.

No look-ahead: the value at bar i uses only bars with ``ts <= ts[i]`` (the decision is taken
at bar i's close), and a reference symbol's bar counts once its start is <= ``ts[i]``.
Every window holds exact integer sums (prices in ticks), so an engine that starts at any bar
gives bit-for-bit the full-history values once it has seen ``REQUIRED_HISTORY_BARS`` bars of
its own series (and of each reference's): ``compute_latest`` on such a tail equals
``compute_features(full history)[-1]``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from multialpha.features import compiled, kernel
from multialpha.features.bars import BarArrays
from multialpha.features.catalog import REQUIRED_HISTORY_BARS
from multialpha.features.plan import plan_features

_EMPTY_F = np.empty(0, dtype=np.float64)
_EMPTY_I = np.empty(0, dtype=np.int64)


def _f64(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(x, dtype=np.float64)


def _run(bars: BarArrays, names: Sequence[str], refs: Mapping[str, BarArrays], first: int) -> np.ndarray:
    """Rows ``first:`` of the feature matrix."""
    plan = plan_features(names, refs)
    used = [refs[s] for s in plan.refs]
    ticks = [compiled.checked_tick_size(b.symbol, b.tick_size) for b in (bars, *used)]
    own, states = kernel.new_states(ticks[:1]), kernel.new_states(ticks[1:])
    bounds = np.zeros(len(used) + 1, dtype=np.int64)
    bounds[1:] = np.cumsum([len(r) for r in used], dtype=np.int64)

    def joined(field: str) -> np.ndarray:
        return _f64(np.concatenate([getattr(r, field) for r in used])) if used else _EMPTY_F

    rts = np.ascontiguousarray(np.concatenate([r.ts for r in used]), dtype=np.int64) if used else _EMPTY_I
    codes, cols, series = plan.flat()
    out = np.empty((max(len(bars) - first, 0), plan.width))
    err = np.zeros(3, dtype=np.int64)
    compiled.run(own, np.ascontiguousarray(bars.ts, dtype=np.int64), _f64(bars.open), _f64(bars.high),
               _f64(bars.low), _f64(bars.close), _f64(bars.volume),
               states, rts, joined("open"), joined("high"), joined("low"), joined("close"), joined("volume"),
               bounds, codes, cols, series, first, out, err)
    if err[0] != kernel.OK:
        status, r, i = (int(x) for x in err)
        src = bars if r < 0 else used[r]
        previous = int(src.ts[i - 1]) if i > 0 else None
        raise compiled.refusal(src.symbol, ticks[r + 1], status, int(src.ts[i]),
                               tuple(float(getattr(src, f)[i]) for f in kernel.FIELDS), previous)
    return out


def compute_features(bars: BarArrays, names: Sequence[str],
                     refs: Mapping[str, BarArrays] | None = None) -> np.ndarray:
    """Feature matrix of shape (len(bars), len(names)), float64; NaN where history is missing.

    ``bars`` and every reference named need a ``tick_size``; a price off that grid, or bars
    out of time order, raise ValueError naming the symbol and the bar.
    """
    return _run(bars, names, {} if refs is None else refs, 0)


def compute_latest(bars: BarArrays, names: Sequence[str],
                   refs: Mapping[str, BarArrays] | None = None) -> np.ndarray:
    """Feature values at the last bar, shape (len(names),), from a fresh engine.

    Uses only the last ``REQUIRED_HISTORY_BARS`` bars of ``bars`` and of each reference up
    to the last bar's ts, so passing longer histories costs nothing and changes nothing.
    """
    refs = {} if refs is None else refs
    plan_features(names, refs)  # unknown names first, whatever the bars
    if len(bars) == 0:
        raise ValueError(f"no bars of {bars.symbol!r} to compute features on")
    tail = bars.tail(REQUIRED_HISTORY_BARS)
    last = tail.ts[-1]
    trimmed = {}
    for symbol, ref in refs.items():
        end = int(np.searchsorted(ref.ts, last, side="right"))
        trimmed[symbol] = ref.slice(slice(max(0, end - REQUIRED_HISTORY_BARS), end))
    return _run(tail, names, trimmed, len(tail) - 1)[0]
