"""The ATR the strategy sizes its stops with: the feature engine's, on a bounded tail."""

from __future__ import annotations

import math

import numpy as np

from multialpha.features.bars import BarArrays
from multialpha.features.indicators import sma_atr

ATR_PERIOD = 14


def atr_series(bars: BarArrays) -> np.ndarray:
    """ATR(14) at every bar (NaN until 15 bars exist)."""
    return sma_atr(bars.high, bars.low, bars.close, ATR_PERIOD)


def latest_atr(bars: BarArrays) -> float:
    """ATR(14) at the last bar, from the last 15 bars only (same value as ``atr_series``)."""
    tail = bars.tail(ATR_PERIOD + 1)
    if len(tail) < ATR_PERIOD + 1:
        return math.nan
    return float(sma_atr(tail.high, tail.low, tail.close, ATR_PERIOD, start=len(tail) - 1)[-1])
