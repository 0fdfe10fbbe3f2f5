"""DBN fixed-point prices to floats on the contract's tick grid, exactly.

DBN carries every price as an int64 count of 1e-9 units. A price is snapped to the nearest
whole tick in integer arithmetic (ties go up), then divided by 1e9 once: Python's int / int
is correctly rounded, so the float is the one nearest the exact decimal price, the same float
a bar file's ``4500.25`` or ``0.65355`` parses to. No float arithmetic touches the price on
the way, so no drift accumulates and the feature engine's on-grid test always passes.
"""

from __future__ import annotations

FIXED_PRICE_SCALE = 1_000_000_000  # DBN price units per 1.0 of quoted price


def tick_units(tick_size: float) -> int:
    """The tick size as a whole number of DBN price units; refuses a finer or odd tick."""
    scaled = tick_size * FIXED_PRICE_SCALE
    units = round(scaled)
    if units <= 0 or abs(scaled - units) > 1e-6 * max(1.0, scaled):
        raise ValueError(f"tick size {tick_size!r} is not a whole number of DBN's 1e-9 price units")
    return units


class PriceGrid:
    """Converts one contract's DBN prices; without a tick size, converts without snapping."""

    __slots__ = ("tick_size", "_units")

    def __init__(self, tick_size: float | None = None) -> None:
        self.tick_size = tick_size
        self._units = None if tick_size is None else tick_units(tick_size)

    def snap(self, fixed: int) -> int:
        """``fixed`` moved to the nearest whole tick (half a tick rounds up), still in 1e-9 units."""
        if self._units is None:
            return fixed
        ticks, rest = divmod(fixed, self._units)
        return (ticks + (2 * rest >= self._units)) * self._units

    def to_float(self, fixed: int) -> float:
        return self.snap(fixed) / FIXED_PRICE_SCALE
