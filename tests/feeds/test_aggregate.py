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


def test_batch_aggregation_equals_the_live_feeds_streaming_aggregator_on_the_same_minutes() -> None:
    # import-bars aggregates vendor floats in one pass; the live feed aggregates DBN's fixed-point
    # records one at a time (HourlyAggregator): the same minutes must give the same hourly bars.
    from decimal import Decimal

    from multialpha.feeds.hourly import HourlyAggregator

    rng = np.random.default_rng(3)
    start = 1_710_252_000 * 1_000_000_000  # 2024-03-12 14:00 UTC
    minutes = sorted(int(m) for m in rng.choice(180, size=120, replace=False))  # gaps, some hours thin
    ts = np.array([start + m * 60_000_000_000 for m in minutes], dtype=np.int64)
    close = 5000 + np.cumsum(rng.integers(-3, 4, len(ts))) * 0.25
    open_ = np.r_[close[0], close[:-1]]
    high = np.maximum(open_, close) + rng.integers(0, 3, len(ts)) * 0.25
    low = np.minimum(open_, close) - rng.integers(0, 3, len(ts)) * 0.25
    volume = rng.integers(1, 50, len(ts)).astype(np.float64)
    batch = aggregate_hourly(ts, open_, high, low, close, volume)

    agg = HourlyAggregator({"ES": 0.25})
    fixed = [[int(Decimal(repr(float(p))) * 1_000_000_000) for p in col] for col in (open_, high, low, close)]
    hours = [h for i in range(len(ts)) for h in agg.add("ES", int(ts[i]), fixed[0][i], fixed[1][i], fixed[2][i],
                                                        fixed[3][i], int(volume[i]))]
    hours += agg.flush()
    assert [h.ts_ns for h in hours] == batch.ts.tolist()
    assert [tuple(h.bars["ES"]) for h in hours] == [
        (o, h, lo, c, v) for o, h, lo, c, v in zip(batch.open, batch.high, batch.low, batch.close, batch.volume,
                                                    strict=True)]
