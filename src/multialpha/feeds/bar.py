"""One bar time across symbols: what the hub hands every worker."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import NamedTuple


class Bar(NamedTuple):
    open: float
    high: float
    low: float
    close: float
    volume: float


@dataclass(frozen=True)
class BarGroup:
    """Every symbol's bar that starts at ``ts_ns``; delivered together, in time order."""

    seq: int
    ts_ns: int  # bar start, ns since epoch UTC
    close_time: datetime  # decision time (bar close), aware UTC
    trading_day: date  # CME trading day of the decision time
    close_minute: int  # exchange-time minute of day of the close (session windows)
    historical: bool  # warm-up: update state, never send orders
    bars: Mapping[str, Bar]
    arrived_ns: int = 0  # perf_counter_ns when the hub released it (latency measurement)
