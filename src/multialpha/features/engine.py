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

from multialpha.features import compiled
from multialpha.features.bars import BarArrays
from multialpha.features.catalog import REQUIRED_HISTORY_BARS
from multialpha.features.plan import plan_features
from multialpha.features.references import ReferenceFeatures, reference_features

Reference = BarArrays | ReferenceFeatures
"""A reference symbol's bars, or its features already computed (``reference_features``)."""


def _run(bars: BarArrays, names: Sequence[str], refs: Mapping[str, Reference], first: int) -> np.ndarray:
    """Rows ``first:`` of the feature matrix."""
    plan = plan_features(names, refs)
    tick = compiled.checked_tick_size(bars.symbol, bars.tick_size)
    tables = {s: _table(refs[s], bars) for s in plan.refs}
    out = compiled.run_series(bars, tick, plan.own.codes, plan.own.cols, first, plan.width)
    ts = bars.ts[first:]
    for symbol, group in plan.refs.items():
        tables[symbol].join(ts, group.codes, out, group.cols)
    return out


def _table(ref: Reference, bars: BarArrays) -> ReferenceFeatures:
    if isinstance(ref, ReferenceFeatures):
        return ref
    # Bars starting after the last own bar can never be joined: leave them unread.
    return reference_features(ref, int(bars.ts[-1]) if len(bars) else None)


def compute_features(bars: BarArrays, names: Sequence[str],
                     refs: Mapping[str, Reference] | None = None) -> np.ndarray:
    """Feature matrix of shape (len(bars), len(names)), float64; NaN where history is missing.

    ``bars`` and every reference named need a ``tick_size``; a price off that grid, or bars
    out of time order, raise ValueError naming the symbol and the bar. A reference given as
    bars is run through the engine on every call: when computing many symbols against the
    same references, pass ``reference_features(ref_bars)`` instead and it runs once.
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
