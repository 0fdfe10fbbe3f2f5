"""IbsStrategy rules as pure scalar functions.

The live strategy calls them as plain Python; research compiles the very same source with
numba (``rules_jit``) and runs it over whole arrays. Only floats and ints go in and out so
both paths accept them. Prices are the bar's close: decisions are taken at the close.
"""

from __future__ import annotations

import math

# Exit reason codes (ExitReason in exits.py gives them names).
EXIT_NONE = 0
EXIT_STOP = 1
EXIT_TAKE_PROFIT = 2
EXIT_IBS = 3
EXIT_MAX_BARS = 4
EXIT_AUTO_CLOSE = 5

STOP_PERCENT = 0
STOP_ATR = 1
STOP_NONE = 2


def in_window(minute: int, start_min: int, end_min: int) -> bool:
    """Exchange-time minute of day inside [start, end]; a window may wrap midnight."""
    if start_min <= end_min:
        return start_min <= minute <= end_min
    return minute >= start_min or minute <= end_min


def ticks(price: float, tick: float) -> float:
    """``price`` in whole ticks of its contract (prices are validated on the grid on load)."""
    return math.floor(price / tick + 0.5)


def ibs_value(high: float, low: float, close: float, tick: float) -> float:
    """Internal bar strength, where the close sits in the bar's range (0.5 for a flat bar),
    computed from whole ticks like the feature engine's ``ibs``: exact, so a bar at exactly
    0.2 in ticks is 0.2 whatever floating-point noise the prices carry."""
    h, lo, c = ticks(high, tick), ticks(low, tick), ticks(close, tick)
    rng = h - lo
    if rng <= 0.0:
        return 0.5
    return (c - lo) / rng


def entry_signal(ibs: float, minute: int, entry_low: float, entry_high: float,
                 start_min: int, end_min: int) -> bool:
    """The IBS rule alone: a low close inside the entry window (before the ML filter)."""
    return entry_low <= ibs <= entry_high and in_window(minute, start_min, end_min)


def stop_price(entry: float, atr: float, kind: int, stop_pct: float, stop_atr_mult: float) -> float:
    """Protective stop level; NaN when disabled or ATR unknown."""
    if kind == STOP_PERCENT and stop_pct > 0.0:
        return entry - abs(entry) * stop_pct  # a distance from the price, right for negative prices too
    if kind == STOP_ATR and stop_atr_mult > 0.0 and math.isfinite(atr):
        return entry - stop_atr_mult * atr
    return math.nan


def take_profit_price(entry: float, atr: float, kind: int, tp_pct: float, tp_atr_mult: float) -> float:
    """Take-profit level; NaN when disabled or ATR unknown."""
    if kind == STOP_PERCENT and tp_pct > 0.0:
        return entry + abs(entry) * tp_pct
    if kind == STOP_ATR and tp_atr_mult > 0.0 and math.isfinite(atr):
        return entry + tp_atr_mult * atr
    return math.nan


def exit_code(close: float, ibs: float, minute: int, bars_held: int, stop: float, target: float,
              exit_low: float, exit_high: float, max_holding_bars: int, auto_close_min: int) -> int:
    """Why a long position closes on this bar (EXIT_NONE to hold). Checked in priority order."""
    if stop == stop and close <= stop:  # stop == stop is False for NaN (numba-friendly isnan)
        return EXIT_STOP
    if target == target and close >= target:
        return EXIT_TAKE_PROFIT
    if exit_low <= ibs <= exit_high:
        return EXIT_IBS
    if max_holding_bars > 0 and bars_held >= max_holding_bars:
        return EXIT_MAX_BARS
    if auto_close_min >= 0 and minute >= auto_close_min and minute < 17 * 60:
        return EXIT_AUTO_CLOSE
    return EXIT_NONE
