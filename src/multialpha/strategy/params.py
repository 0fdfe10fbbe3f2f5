"""IbsStrategy parameters: the class defaults, in one place."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

STOP_TYPES = ("percent", "atr", "none")


def parse_hhmm(text: str, *, name: str) -> int:
    """'08:30' -> minutes after midnight; '' -> -1 (disabled)."""
    if text == "":
        return -1
    try:
        hh, mm = text.split(":")
        h, m = int(hh), int(mm)
    except ValueError:
        raise ValueError(f"{name} must look like HH:MM, got {text!r}") from None
    if not (0 <= h <= 23 and 0 <= m <= 59):
        raise ValueError(f"{name} must look like HH:MM, got {text!r}")
    return h * 60 + m


@dataclass(frozen=True)
class IbsParams:
    """Long-only IBS mean reversion on hourly bars. Times are exchange (Chicago) time."""

    ibs_entry_low: float = 0.0  # enter when ibs_entry_low <= IBS <= ibs_entry_high
    ibs_entry_high: float = 0.2
    ibs_exit_low: float = 0.8  # exit when ibs_exit_low <= IBS <= ibs_exit_high
    ibs_exit_high: float = 1.0
    session_start: str = "08:30"  # entries only for bars closing inside [start, end]
    session_end: str = "15:00"
    stop_type: str = "atr"  # percent | atr | none; also selects the take-profit kind
    stop_pct: float = 0.01  # stop distance as a fraction of the entry price
    stop_atr_mult: float = 2.0  # stop distance in ATR(14) multiples
    tp_pct: float = 0.015  # take-profit distance (fraction); 0 disables
    tp_atr_mult: float = 3.0  # take-profit distance in ATR multiples; 0 disables
    max_holding_bars: int = 24  # exit after this many bars in the trade; 0 disables
    auto_close_time: str = ""  # exit any position on the bar closing at/after HH:MM; "" disables
    quantity: int = 1  # contracts per entry
    use_ml_filter: bool = True

    def __post_init__(self) -> None:
        for name in ("ibs_entry_low", "ibs_entry_high", "ibs_exit_low", "ibs_exit_high"):
            v = getattr(self, name)
            if not (0.0 <= v <= 1.0):
                raise ValueError(f"{name} must be within [0, 1], got {v}")
        if self.ibs_entry_low > self.ibs_entry_high:
            raise ValueError("ibs_entry_low must be <= ibs_entry_high")
        if self.ibs_exit_low > self.ibs_exit_high:
            raise ValueError("ibs_exit_low must be <= ibs_exit_high")
        if self.stop_type not in STOP_TYPES:
            raise ValueError(f"stop_type must be one of {STOP_TYPES}, got {self.stop_type!r}")
        for name in ("stop_pct", "stop_atr_mult", "tp_pct", "tp_atr_mult"):
            v = getattr(self, name)
            if not (math.isfinite(v) and v >= 0):
                raise ValueError(f"{name} must be a finite number >= 0, got {v}")
        if self.max_holding_bars < 0:
            raise ValueError("max_holding_bars must be >= 0")
        if self.quantity < 1:
            raise ValueError("quantity must be >= 1")
        for name in ("session_start", "session_end", "auto_close_time"):
            parse_hhmm(getattr(self, name), name=name)
        if self.session_start == "" or self.session_end == "":
            raise ValueError("session_start and session_end are required")

    @property
    def session_start_min(self) -> int:
        return parse_hhmm(self.session_start, name="session_start")

    @property
    def session_end_min(self) -> int:
        return parse_hhmm(self.session_end, name="session_end")

    @property
    def auto_close_min(self) -> int:
        return parse_hhmm(self.auto_close_time, name="auto_close_time")

    @property
    def stop_kind(self) -> int:
        return STOP_TYPES.index(self.stop_type)

    @classmethod
    def defaults(cls) -> dict[str, Any]:
        return asdict(cls())

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> IbsParams:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown IbsStrategy parameter(s): {unknown}")
        return cls(**dict(values))
