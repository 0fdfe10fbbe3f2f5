"""The ATR the strategy sizes its stops with: the feature engine's ATR(14), in price units."""

from __future__ import annotations

import numpy as np

from multialpha.features import compiled, kernel
from multialpha.features.bars import BarArrays


def atr_series(bars: BarArrays) -> np.ndarray:
    """ATR(14) at every bar (NaN until 15 bars exist), from true ranges summed in ticks.

    The live strategy reads the same value from its symbol's engine
    (``OnlineFeatures.atr``): the same integer sums and the same final formula.
    """
    tick = compiled.checked_tick_size(bars.symbol, bars.tick_size)
    out = np.empty(len(bars))
    err = np.zeros(2, dtype=np.int64)
    compiled.atr_run(np.ascontiguousarray(bars.high, dtype=np.float64),
                   np.ascontiguousarray(bars.low, dtype=np.float64),
                   np.ascontiguousarray(bars.close, dtype=np.float64), tick, int(bars.allows_negative_prices),
                   out, err)
    if err[0] != kernel.OK:
        raise compiled.refused(bars, tick, int(err[0]), int(err[1]))
    return out
