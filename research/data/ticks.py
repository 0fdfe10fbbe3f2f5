"""Prices against the contract's tick grid: find the ones off it, or snap them onto it.

"On the grid" is the feature engine's own test: within a millionth of a tick of a whole
number of ticks. Snapping rounds to the nearest tick and then to the tick's decimals, so
the written text is short (4512.25, not 4512.250000000001); rounding keeps
``low <= open, close <= high``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from multialpha.features.kernel import GRID_TOL

PRICE_FIELDS = ("open", "high", "low", "close")


@dataclass(frozen=True)
class Snapped:
    """What snapping did: how many prices moved and the largest move, with where it was."""

    moved: int
    total: int
    largest: float  # in price units
    largest_at: tuple[int, str] | None  # (index into the rows, field)


def off_grid(prices: np.ndarray, tick_size: float) -> np.ndarray:
    """Prices further than a millionth of a tick from a whole number of ticks."""
    ticks = prices / tick_size
    return ~(np.abs(ticks - np.rint(ticks)) <= GRID_TOL)


def tick_decimals(tick_size: float) -> int:
    """Decimals of the tick as written (0.25 -> 2, 0.0000005 -> 7, 1.0 -> 0)."""
    exponent = Decimal(repr(tick_size)).normalize().as_tuple().exponent
    return max(0, -int(exponent))


def snap(values: Mapping[str, np.ndarray], tick_size: float) -> tuple[dict[str, np.ndarray], Snapped]:
    """Prices rounded to the grid (other fields unchanged) and a summary of the moves."""
    decimals = tick_decimals(tick_size)
    out = dict(values)
    moved, largest, at = 0, 0.0, None
    for field in PRICE_FIELDS:
        prices = np.asarray(values[field], dtype=np.float64)
        snapped = np.round(np.rint(prices / tick_size) * tick_size, decimals)
        change = np.abs(snapped - prices)
        moved += int(off_grid(prices, tick_size).sum())
        if change.shape[0] and change.max() > largest:
            i = int(np.argmax(change))
            largest, at = float(change[i]), (i, field)
        out[field] = snapped
    total = len(PRICE_FIELDS) * (len(values["open"]))
    return out, Snapped(moved, total, largest if moved else 0.0, at if moved else None)
