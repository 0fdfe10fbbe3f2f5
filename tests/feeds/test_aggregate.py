"""Minute bars into hourly bars: labelled by the hour's start, UTC clock hours, nothing invented."""

from __future__ import annotations

import numpy as np
import pytest

from multialpha.feeds.aggregate import NS_PER_HOUR, aggregate_hourly, hour_start

MINUTE = 60 * 1_000_000_000
T0 = np.datetime64("2024-03-08T14:00", "ns").astype(np.int64)


def _minutes(offsets: list[int]) -> dict[str, np.ndarray]:
    k = np.arange(len(offsets), dtype=np.float64)
    return {"ts": T0 + np.asarray(offsets, dtype=np.int64) * MINUTE, "open": 100 + k,
            "high": 101 + k, "low": 99 - k, "close": 100.5 + k, "volume": 10 + k}


def test_each_utc_hour_takes_first_open_highest_high_lowest_low_last_close_summed_volume() -> None:
    m = _minutes([0, 1, 59, 60, 95])
    out = aggregate_hourly(m["ts"], m["open"], m["high"], m["low"], m["close"], m["volume"])
    assert out.ts.tolist() == [T0, T0 + NS_PER_HOUR]
    assert out.open.tolist() == [100.0, 103.0]
    assert out.high.tolist() == [103.0, 105.0]
    assert out.low.tolist() == [97.0, 95.0]
    assert out.close.tolist() == [102.5, 104.5]
    assert out.volume.tolist() == [33.0, 27.0]
    assert out.inputs.tolist() == [3, 2]


def test_an_hour_without_minute_bars_is_absent_not_invented() -> None:
    m = _minutes([5, 185])  # 14:05 and 17:05; nothing in 15:00 and 16:00
    out = aggregate_hourly(m["ts"], m["open"], m["high"], m["low"], m["close"], m["volume"])
    assert out.ts.tolist() == [T0, T0 + 3 * NS_PER_HOUR]


def test_hour_start_floors_to_the_utc_clock_hour_before_1970_too() -> None:
    ts = np.array([T0 + 59 * MINUTE, -MINUTE], dtype=np.int64)
    assert hour_start(ts).tolist() == [T0, -NS_PER_HOUR]


def test_no_bars_give_no_hours() -> None:
    empty = np.empty(0)
    out = aggregate_hourly(np.empty(0, dtype=np.int64), empty, empty, empty, empty, empty)
    assert out.ts.shape == (0,) and out.inputs.shape == (0,)


def test_unordered_or_repeated_starts_are_refused() -> None:
    m = _minutes([1, 1])
    with pytest.raises(ValueError, match="strictly increasing"):
        aggregate_hourly(m["ts"], m["open"], m["high"], m["low"], m["close"], m["volume"])
