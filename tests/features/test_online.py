"""The live engine: bar by bar it gives research's rows exactly, whatever bar it started at."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from multialpha.features import (
    BASE_FEATURES,
    REQUIRED_HISTORY_BARS,
    BarArrays,
    FeatureBook,
    OnlineFeatures,
    compute_features,
    feature_catalog,
)
from multialpha.features.daily import exchange_offset_ns, roll_days
from multialpha.strategy.indicators import atr_series

NS_HOUR = 3600 * 1_000_000_000
NAMES = feature_catalog(["R"])
BASE = list(BASE_FEATURES)


def _feed(engine: OnlineFeatures, bars: BarArrays, i: int) -> None:
    engine.update(int(bars.ts[i]), float(bars.open[i]), float(bars.high[i]), float(bars.low[i]),
                  float(bars.close[i]), float(bars.volume[i]))


def _start_ns(year: int, month: int, day: int) -> int:
    return int(datetime(year, month, day, tzinfo=UTC).timestamp()) * 1_000_000_000


# Starts a few weeks before each 2024 daylight-saving change, so that the walks cross it.
DST_EVES = (_start_ns(2024, 2, 18), _start_ns(2024, 10, 12))


def _walk(symbol: str, ts: np.ndarray, tick: float, seed: int, flat_share: float) -> BarArrays:
    """A random walk in whole ticks, with flat stretches (zero moves, constant volume)."""
    rng = np.random.default_rng(seed)
    n = ts.shape[0]
    flat = rng.random(n) < flat_share
    close = 5000 + np.cumsum(np.where(flat, 0, rng.integers(-4, 5, n)))
    high = close + np.where(flat, 0, rng.integers(0, 4, n))
    low = close - np.where(flat, 0, rng.integers(0, 4, n))
    open_ = np.clip(np.concatenate(([close[0]], close[:-1])), low, high)
    volume = np.where(flat, 100, rng.integers(0, 800, n)).astype(np.float64)
    return BarArrays(symbol, ts, open_ * tick, high * tick, low * tick, close * tick, volume, tick)


def _series(start: int, n: int, seed: int, gap_share: float) -> np.ndarray:
    """``n`` hour-aligned bar starts in Globex's week (Sunday 17:00 to Friday 17:00 Chicago):
    mostly one hour apart, with gaps (hours to whole days)."""
    rng = np.random.default_rng(seed)
    steps = np.where(rng.random(2 * n) < gap_share, rng.choice([2, 3, 5, 24, 49, 65], 2 * n), 1)
    ts = start + np.cumsum(steps).astype(np.int64) * NS_HOUR
    roll = roll_days(ts + exchange_offset_ns(ts))
    return ts[(roll + 3) % 7 < 5][:n]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), eve=st.sampled_from(DST_EVES), offset_hours=st.integers(0, 24 * 14),
       n=st.integers(REQUIRED_HISTORY_BARS + 80, REQUIRED_HISTORY_BARS + 300),
       gap_share=st.sampled_from([0.0, 0.02, 0.1]), flat_share=st.sampled_from([0.0, 0.3, 0.9]),
       tick=st.sampled_from([0.25, 0.01, 0.03125, 0.0000005]), start_share=st.floats(0.0, 1.0))
def test_an_engine_started_at_any_bar_gives_research_rows_exactly_after_the_warm_up(
        seed, eve, offset_hours, n, gap_share, flat_share, tick, start_share) -> None:
    ts = _series(eve + offset_hours * NS_HOUR, n, seed, gap_share)
    own = _walk("ES", ts, tick, seed + 1, flat_share)
    # The reference misses some of the own bar times and has some of its own.
    rng = np.random.default_rng(seed + 2)
    extra = ts[rng.random(n) < 0.05] - NS_HOUR
    ref_ts = np.union1d(ts[rng.random(n) > 0.05], extra)
    ref = _walk("R", ref_ts, 0.05, seed + 3, flat_share)
    full = compute_features(own, NAMES, {"R": ref})

    k = int(start_share * (n - REQUIRED_HISTORY_BARS - 60))
    engine, ref_engine = OnlineFeatures("ES", tick), OnlineFeatures("R", 0.05)
    j = int(np.searchsorted(ref.ts, own.ts[k]))  # both engines start receiving at the same time
    compared = 0
    for i in range(k, n):
        while j < len(ref) and ref.ts[j] <= own.ts[i]:
            _feed(ref_engine, ref, j)
            j += 1
        _feed(engine, own, i)
        if i - k + 1 < REQUIRED_HISTORY_BARS:
            continue
        row = engine.row(NAMES, {"R": ref_engine})
        if ref_engine.bars_seen >= REQUIRED_HISTORY_BARS:
            assert np.array_equal(row, full[i], equal_nan=True), (k, i)
            compared += 1
        else:
            assert np.array_equal(row[: len(BASE)], full[i, : len(BASE)], equal_nan=True), (k, i)
    assert compared > 0


def test_started_together_the_engine_matches_research_from_the_very_first_bar(build) -> None:
    own = build.random_bars("ES", 40, seed=5)
    refs = {"VX": build.random_bars("VX", 40, seed=6, tick_size=0.05),
            "ZB": build.random_bars("ZB", 40, seed=7, tick_size=0.03125)}
    names = feature_catalog(refs)
    full = compute_features(own, names, refs)
    book = FeatureBook({"ES": 0.01, "VX": 0.05, "ZB": 0.03125})
    for i in range(len(own)):  # every symbol has a bar at every time: references first, as the hub delivers
        for s, r in refs.items():
            book.update(s, int(r.ts[i]), r.open[i], r.high[i], r.low[i], r.close[i], r.volume[i])
        book.update("ES", int(own.ts[i]), own.open[i], own.high[i], own.low[i], own.close[i], own.volume[i])
        assert np.array_equal(book.row("ES", names), full[i], equal_nan=True), i
    assert not np.isnan(full[-1]).any()


def test_the_engine_atr_is_research_atr_series_at_every_bar(build) -> None:
    bars = build.random_bars("ES", 3, seed=2)
    expected = atr_series(bars)
    engine = OnlineFeatures("ES", 0.01)
    got = []
    for i in range(len(bars)):
        _feed(engine, bars, i)
        got.append(engine.atr())
    assert np.array_equal(np.array(got), expected, equal_nan=True)
    assert np.isnan(expected[:14]).all() and not np.isnan(expected[14])


def test_atr_series_is_the_plain_mean_of_true_ranges_in_price_units(build) -> None:
    width = np.arange(20.0)
    close = np.full(20, 10.0)
    bars = BarArrays("ES", np.arange(20, dtype=np.int64) * NS_HOUR, close, close + width / 2,
                     close - width / 2, close, np.ones(20), 0.25)
    atr = atr_series(bars)
    assert np.isnan(atr[:14]).all()
    assert atr[14:].tolist() == [np.mean(width[i - 13:i + 1]) for i in range(14, 20)]
    with pytest.raises(ValueError, match=r"ES: bar at 1970-01-01T00:00:00Z: high 10\.0 is not on the tick grid of 0\.3"):
        atr_series(bars.with_tick_size(0.3))


def test_a_refused_bar_names_symbol_time_and_price_and_leaves_the_engine_as_it_was(build) -> None:
    bars = build.random_bars("ES", 2, seed=3)
    engine = OnlineFeatures("ES", 0.01)
    for i in range(10):
        _feed(engine, bars, i)
    before = engine.row(BASE)
    t = int(bars.ts[10])
    with pytest.raises(ValueError, match=r"ES: bar at \d{4}-\d\d-\d\dT\d\d:00:00Z: low 99\.995 is not on the tick grid"):
        engine.update(t, 100.0, 100.5, 99.995, 100.0, 10.0)
    with pytest.raises(ValueError, match="not after the previous bar"):
        engine.update(int(bars.ts[9]), 100.0, 100.5, 99.5, 100.0, 10.0)
    with pytest.raises(ValueError, match="volume 2.5"):
        engine.update(t, 100.0, 100.5, 99.5, 100.0, 2.5)
    with pytest.raises(ValueError, match="out of the feature engine's range"):
        engine.update(t, 1e9, 1e9, 1e9, 1e9, 1.0)
    assert engine.bars_seen == 10 and np.array_equal(engine.row(BASE), before, equal_nan=True)
    for i in range(10, len(bars)):
        _feed(engine, bars, i)
    assert np.array_equal(engine.row(BASE), compute_features(bars, BASE)[-1], equal_nan=True)


def test_rows_reject_unknown_names_and_references_ahead_of_the_bar(build) -> None:
    es, vx = build.random_bars("ES", 2, seed=1), build.random_bars("VX", 2, seed=2, tick_size=0.05)
    engine, ref = OnlineFeatures("ES", 0.01), OnlineFeatures("VX", 0.05)
    with pytest.raises(ValueError, match=r"\['ibz', 'ZB_hourly_z'\]"):
        engine.row(["ibs", "ibz", "ZB_hourly_z"], {"VX": ref})
    assert np.isnan(engine.row(["ibs", "VX_hourly_return"], {"VX": ref})).all()  # nothing seen yet
    _feed(engine, es, 0)
    _feed(ref, vx, 0)
    _feed(ref, vx, 1)
    with pytest.raises(ValueError, match="VX has a bar starting after ES's last bar"):
        engine.row(["VX_hourly_return"], {"VX": ref})
    _feed(engine, es, 1)
    assert engine.row(["VX_hourly_return"], {"VX": ref})[0] == pytest.approx(vx.close[1] / vx.close[0] - 1)
    with pytest.raises(ValueError, match="VX_hourly_return"):
        engine.row(["VX_hourly_return"], {})  # the same names, now without the reference


def test_a_book_reads_any_other_symbol_as_a_reference(build) -> None:
    es, nq = build.random_bars("ES", 2, seed=1), build.random_bars("NQ", 2, seed=2)
    book = FeatureBook({"ES": 0.01, "NQ": 0.01})
    assert set(book) == {"ES", "NQ"} and len(book) == 2
    for i in range(len(es)):
        book.update("NQ", int(nq.ts[i]), nq.open[i], nq.high[i], nq.low[i], nq.close[i], nq.volume[i])
        book.update("ES", int(es.ts[i]), es.open[i], es.high[i], es.low[i], es.close[i], es.volume[i])
    names = ["ibs", "NQ_hourly_z", "NQ_daily_return"]
    assert np.array_equal(book.row("ES", names), compute_features(es, names, {"NQ": nq})[-1], equal_nan=True)


def test_update_and_row_cost_microseconds_however_long_the_history(build) -> None:
    # A guard against order-of-magnitude regressions, loose because test machines are shared.
    bars = build.random_bars("ES", 60, seed=3)
    book = FeatureBook({"ES": 0.01, "VX": 0.05})
    names = feature_catalog(["VX"])
    updates, rows = [], []
    for i in range(len(bars)):
        o, h, lo, c, v = (float(x[i]) for x in (bars.open, bars.high, bars.low, bars.close, bars.volume))
        t0 = time.perf_counter()
        book.update("ES", int(bars.ts[i]), o, h, lo, c, v)
        t1 = time.perf_counter()
        book.row("ES", names)
        t2 = time.perf_counter()
        updates.append(t1 - t0)
        rows.append(t2 - t1)
    assert np.median(updates[-500:]) <= 5 * np.median(updates[:500])  # O(1): no growth with history
    assert min(updates) < 100e-6 and min(rows) < 200e-6
