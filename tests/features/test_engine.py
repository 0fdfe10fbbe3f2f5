"""The feature engine: hand-computed values per family, no look-ahead, exact tail equality."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import date

import numpy as np
import pytest

from multialpha.features import (
    BASE_FEATURES,
    REQUIRED_HISTORY_BARS,
    BarArrays,
    compute_features,
    compute_latest,
    feature_catalog,
)

NS_HOUR = 3600 * 1_000_000_000
Z_OF_20_IN_1_TO_20 = (20 - 10.5) / math.sqrt(399 / 12)  # population std of 1..20


def _column(bars: BarArrays, name: str, refs: dict[str, BarArrays] | None = None) -> np.ndarray:
    return compute_features(bars, [name], refs)[:, 0]


def _hourly_ts(build, n: int) -> list[int]:
    ts = [t for d in build.weekdays(date(2024, 1, 9), n // 23 + 1) for t in build.session_ts(d)]
    return ts[:n]


def _flat_bars(n: int, close: float = 10.0, width: float = 1.0, volume: float = 100.0) -> list[list[float]]:
    return [[close, close + width / 2, close - width / 2, close, volume] for _ in range(n)]


# --- hourly families -----------------------------------------------------------------


def test_ibs_prev_ibs_and_their_product(build) -> None:
    rows = [[10, 11, 9, 9.5, 1], [10, 12, 8, 11, 1], [10, 10, 10, 10, 1]]
    bars = build.bars_from("ES", _hourly_ts(build, 3), rows)
    f = compute_features(bars, ["ibs", "prev_ibs", "ibs_x_prev_ibs"])
    assert f[1].tolist() == [0.75, 0.25, 0.1875]
    assert f[0, 0] == 0.25 and np.isnan(f[0, 1:]).all()
    assert f[2, 0] == 0.5  # a bar with no range


def test_ibs_pct_ranks_the_current_ibs_among_the_last_100(build) -> None:
    # ibs of bar k is ((37 k) mod 100) / 100, a permutation of 0.00 .. 0.99; the last is 0.63,
    # and 64 of the 100 values (0.00 .. 0.63) are <= it.
    rows = [[10, 11, 10, 10 + ((37 * k) % 100) / 100, 1] for k in range(100)]
    pct = _column(build.bars_from("ES", _hourly_ts(build, 100), rows), "ibs_pct")
    assert np.isnan(pct[:99]).all()
    assert pct[99] == 0.64


def test_ibs_pct_counts_ties_at_or_below_including_the_current_bar(build) -> None:
    # IBS 0.3 (0.3 / 1.0, 0.6 / 2.0, ...: equal as exact tick ratios) on 60 bars, 0.7 on 40,
    # then 0.3 again: the last window holds 60 values of 0.3, the current one included.
    rows = ([[10, 11, 10, 10.3, 1]] * 30 + [[20, 22, 20, 20.6, 1]] * 30 + [[10, 11, 10, 10.7, 1]] * 40
            + [[10, 12, 10, 10.6, 1]])
    pct = _column(build.bars_from("ES", _hourly_ts(build, 101), rows), "ibs_pct")
    assert pct[99] == 1.0  # 0.7 is the highest of the first window
    assert pct[100] == 0.6


def test_rsi2_rsi14_and_ibs_x_rsi2_are_cutler_rsi_on_hourly_closes(build) -> None:
    closes = [50.0]
    for step in [1.0, -0.5] * 7:
        closes.append(closes[-1] + step)
    rows = [[c, c + 1, c - 1, c, 1] for c in closes]  # ibs 0.5 on every bar
    f = compute_features(build.bars_from("ES", _hourly_ts(build, 15), rows), ["rsi2", "rsi14", "ibs_x_rsi2"])
    # last two moves +1, -0.5 -> 100 * 1 / 1.5; fourteen moves: 100 * 7 / (7 + 3.5)
    assert f[-1, 0] == pytest.approx(100 / 1.5)
    assert f[-1, 1] == pytest.approx(100 * 7 / 10.5)
    assert f[-1, 2] == pytest.approx(0.5 * (100 / 1.5) / 100)
    assert np.isnan(f[:2, 0]).all() and np.isnan(f[:14, 1]).all() and not np.isnan(f[14, 1])


def test_rsi_is_fifty_without_movement(build) -> None:
    rows = [[7, 7.5, 6.5, 7, 1]] * 16
    f = compute_features(build.bars_from("ES", _hourly_ts(build, 16), rows), ["rsi2", "rsi14"])
    assert f[2:, 0].tolist() == [50.0] * 14 and f[15, 1] == 50.0


def test_volume_z_and_its_percentile_after_a_volume_drop(build) -> None:
    rows = _flat_bars(119)
    rows[-1][4] = 10.0
    f = compute_features(build.bars_from("ES", _hourly_ts(build, 119), rows),
                         ["volume_z", "volume_z_pct", "ibs_x_volume_z"])
    # window: nineteen 100s and one 10 -> mean 95.5, std sqrt(384.75), z = -85.5 / std = -sqrt(19)
    assert f[-1, 0] == pytest.approx(-math.sqrt(19), rel=1e-13)
    assert f[-2, 0] == 0.0  # a flat window
    assert f[-1, 1] == 0.01  # the lowest of the last 100 volume_z values
    assert np.isnan(f[-2, 1])  # volume_z_pct needs 100 + 19 bars
    assert f[-1, 2] == pytest.approx(0.5 * -math.sqrt(19), rel=1e-13)


def test_atr_z_and_its_percentile_after_a_wide_bar(build) -> None:
    # Constant close, so true range = width: 1 on every bar, 15 on the last. ATR14 is 1 until
    # the last bar, then (13 + 15) / 14 = 2. Among the last 50 ATRs (49 ones and a 2):
    # mean 1.02, std sqrt((49 * 0.02**2 + 0.98**2) / 50) = 0.14, z = 0.98 / 0.14 = 7.
    rows = _flat_bars(163)
    rows[-1] = [10.0, 17.5, 2.5, 10.0, 100.0]
    f = compute_features(build.bars_from("ES", _hourly_ts(build, 163), rows),
                         ["atr_z", "atr_z_pct", "ibs_x_atr_z"])
    assert f[-1, 0] == pytest.approx(7.0, rel=1e-12)
    assert f[-2, 0] == 0.0
    assert f[-1, 1] == 1.0
    assert f[-1, 2] == pytest.approx(0.5 * 7.0, rel=1e-12)
    atr_z = f[:, 0]
    assert np.isnan(atr_z[:63]).all() and not np.isnan(atr_z[63])  # 1 + 13 + 50 bars
    assert np.isnan(f[:162, 1]).all()


def test_atr_z_uses_true_ranges_reaching_to_the_previous_close_across_gaps(build) -> None:
    # Bars of width 1 around a close alternating 10 / 20: every true range is 10.5 (the gap to
    # the previous close plus half the bar), so ATR14 is flat and atr_z is 0, not NaN.
    rows = [[c, c + 0.5, c - 0.5, c, 100] for c in [10.0, 20.0] * 40]
    f = compute_features(build.bars_from("ES", _hourly_ts(build, 80), rows), ["atr_z"])
    assert np.isnan(f[:63, 0]).all() and (f[63:, 0] == 0.0).all()


def test_bar_returns_and_close_z20(build) -> None:
    rows = [[c, c + 0.5, c - 0.5, c, 1] for c in np.arange(1.0, 21.0)]
    f = compute_features(build.bars_from("ES", _hourly_ts(build, 20), rows),
                         ["bar_return", "prev_bar_return", "close_z20"])
    assert f[-1, 0] == pytest.approx(20 / 19 - 1)
    assert f[-1, 1] == pytest.approx(19 / 18 - 1)
    assert f[-1, 2] == pytest.approx(Z_OF_20_IN_1_TO_20, rel=1e-14)
    assert np.isnan(f[0, 0]) and np.isnan(f[:2, 1]).all() and np.isnan(f[:19, 2]).all()


def test_close_z20_of_a_flat_window_is_zero_whatever_the_price(build) -> None:
    # 0.1 * 20 is not exact in binary; in ticks the window is exactly flat.
    rows = [[0.1, 0.1, 0.1, 0.1, 1]] * 30
    f = compute_features(build.bars_from("ES", _hourly_ts(build, 30), rows), ["close_z20", "volume_z"])
    assert (f[19:] == 0.0).all()


# --- daily and calendar families -------------------------------------------------------

DAILY = ["daily_ibs", "prev_daily_ibs", "prev_day_return", "day_return", "daily_rsi2",
         "dow", "month", "hour"]


@pytest.fixture
def four_sessions(build) -> BarArrays:
    """Sessions of Tue 30 Jan .. Fri 2 Feb 2024, bars at 17:00, 18:00 (evening before), 14:00, 15:00 CT."""
    days = [date(2024, 1, 30), date(2024, 1, 31), date(2024, 2, 1), date(2024, 2, 2)]
    hours = [[0, 1, 21, 22]] * 3 + [[0]]
    ts = [t for d, h in zip(days, hours, strict=True) for t in build.session_ts(d, h)]
    rows = [
        [100, 102, 99, 101, 1], [101, 103, 100, 102, 1], [102, 104, 98, 99, 1], [99, 100, 97, 98, 1],
        [98, 99, 96, 97, 1], [97, 101, 97, 100, 1], [100, 106, 99, 105, 1], [105, 106, 104, 105, 1],
        [105, 107, 104, 106, 1], [106, 106, 103, 104, 1], [104, 108, 104, 107, 1], [107, 110, 102, 103, 1],
        [103, 109, 102, 108.5, 1],
    ]
    return build.bars_from("ES", ts, rows)


def test_daily_features_per_session(four_sessions: BarArrays) -> None:
    # Sessions A: O100 H104 L97 C98; B: O98 H106 L96 C105; C: O105 H110 L102 C103; D: one bar.
    f = compute_features(four_sessions, DAILY)
    col = {name: f[:, i] for i, name in enumerate(DAILY)}
    assert col["daily_ibs"][0] == pytest.approx((101 - 99) / (102 - 99))
    assert col["daily_ibs"][8] == pytest.approx((106 - 104) / (107 - 104))  # C so far: H107 L104
    assert col["daily_ibs"][9] == pytest.approx((104 - 103) / (107 - 103))  # H107 L103
    assert np.isnan(col["prev_daily_ibs"][:4]).all()
    assert col["prev_daily_ibs"][4:8] == pytest.approx([(98 - 97) / (104 - 97)] * 4)
    assert col["prev_daily_ibs"][8:12] == pytest.approx([(105 - 96) / (106 - 96)] * 4)
    assert np.isnan(col["prev_day_return"][:8]).all()
    assert col["prev_day_return"][8] == pytest.approx(105 / 98 - 1)
    assert col["prev_day_return"][12] == pytest.approx(103 / 105 - 1)
    assert np.isnan(col["day_return"][:4]).all()
    assert col["day_return"][9] == pytest.approx(104 / 105 - 1)
    assert np.isnan(col["daily_rsi2"][:12]).all()
    assert col["daily_rsi2"][12] == pytest.approx(100 * 7 / (7 + 2))  # closes 98, 105, 103


def test_calendar_features_use_the_trading_day_and_the_bar_close_in_chicago(four_sessions: BarArrays) -> None:
    f = compute_features(four_sessions, ["dow", "month", "hour"])
    # Bar 0 starts Monday 29 Jan 17:00 CT but trades for Tuesday 30 Jan; it closes at 18:00.
    assert f[0].tolist() == [1.0, 1.0, 18.0]
    assert f[3].tolist() == [1.0, 1.0, 16.0]  # starts 15:00, closes 16:00
    # Bar 8 starts Wednesday 31 Jan 17:00 CT, trading day Thursday 1 Feb.
    assert f[8].tolist() == [3.0, 2.0, 18.0]
    assert f[12].tolist() == [4.0, 2.0, 18.0]


def test_daily_ibs_is_unknown_while_the_first_session_is_only_partly_present(build) -> None:
    ts = build.session_ts(date(2024, 1, 9), [5, 6]) + build.session_ts(date(2024, 1, 10), [0])
    bars = build.bars_from("ES", ts, [[10, 12, 9, 11, 1]] * 3)
    f = compute_features(bars, ["daily_ibs", "prev_daily_ibs", "day_return"])
    assert np.isnan(f[:2, 0]).all() and np.isnan(f[2, 1])
    assert f[2, 0] == pytest.approx(2 / 3) and f[2, 2] == 0.0  # the close is known


# --- cross-instrument ----------------------------------------------------------------------


def test_reference_features_align_as_of_the_bar_start(build) -> None:
    # R: one bar a session at 08:00 CT over 21 sessions; closes 1 .. 20, then 30.
    days = build.trade_dates(date(2024, 1, 2), 21)
    r_ts = [build.session_ts(d, [15])[0] for d in days]
    r_close = list(np.arange(1.0, 21.0)) + [30.0]
    ref = build.bars_from("R", r_ts, [[c, c, c, c, 1] for c in r_close])
    own_ts = [r_ts[0] - 6 * NS_HOUR, r_ts[0] - 5 * NS_HOUR, r_ts[19], r_ts[20] + NS_HOUR]
    own = build.bars_from("ES", own_ts, [[10, 11, 9, 10, 1]] * 4)
    names = ["R_hourly_z", "ibs", "R_hourly_return", "R_daily_z", "R_daily_return"]
    f = np.delete(compute_features(own, names, {"R": ref}), 1, axis=1)[1:]
    assert np.isnan(f[0]).all()  # before R's first bar
    assert f[1, 0] == pytest.approx(Z_OF_20_IN_1_TO_20, rel=1e-14)  # R bar with the same start
    assert f[1, 1] == pytest.approx(20 / 19 - 1)
    assert np.isnan(f[1, 2])  # only 19 completed R sessions by then
    assert f[2, 1] == pytest.approx(30 / 20 - 1)
    assert f[2, 2] == pytest.approx(Z_OF_20_IN_1_TO_20, rel=1e-14)  # completed closes 1 .. 20
    assert f[2, 3] == pytest.approx(20 / 19 - 1)


# --- contracts of the engine ------------------------------------------------------------------


def _refs(build) -> dict[str, BarArrays]:
    vx = build.random_bars("VX", 60, seed=11)
    zb = build.random_bars("ZB", 60, seed=12)
    keep = np.random.default_rng(5).random(len(zb)) > 0.1  # ZB misses some bars
    zb = BarArrays("ZB", zb.ts[keep], zb.open[keep], zb.high[keep], zb.low[keep], zb.close[keep],
                   zb.volume[keep], zb.tick_size)
    return {"VX": vx, "ZB": zb}


def test_changing_future_bars_does_not_change_past_values(build) -> None:
    bars = build.random_bars("ES", 60, seed=1)
    refs = _refs(build)
    names = feature_catalog(refs)
    before = compute_features(bars, names, refs)
    rng = np.random.default_rng(9)
    for k in (0, 30, 400, 900, len(bars) - 2):
        later = slice(k + 1, None)
        changed = {}
        for field in ("open", "high", "low", "close", "volume"):
            arr = getattr(bars, field).copy()
            arr[later] *= rng.uniform(0.5, 1.5, arr[later].shape)
            changed[field] = np.rint(arr) if field == "volume" else build.on_grid(arr, bars.tick_size)
        other = BarArrays("ES", bars.ts, **changed, tick_size=bars.tick_size)
        other_refs = {}
        for sym, r in refs.items():
            close = r.close.copy()
            close[r.ts > bars.ts[k]] *= 3.0
            other_refs[sym] = BarArrays(sym, r.ts, r.open, r.high, r.low, build.on_grid(close, r.tick_size),
                                        r.volume, r.tick_size)
        after = compute_features(other, names, other_refs)
        assert np.array_equal(after[: k + 1], before[: k + 1], equal_nan=True), k


def test_latest_on_a_tail_equals_full_history_exactly(build) -> None:
    # Exact, not approximate: every window adds the same numbers in the same order.
    bars = build.random_bars("ES", 60, seed=2)
    refs = _refs(build)
    names = feature_catalog(refs)
    full = compute_features(bars, names, refs)
    assert not np.isnan(full[-1]).any()
    for end in (REQUIRED_HISTORY_BARS, 700, 1000, 1234, len(bars)):
        head = bars.slice(slice(0, end))
        assert np.array_equal(compute_latest(head, names, refs), full[end - 1], equal_nan=True), end
        tails = {s: r.slice(slice(0, int(np.searchsorted(r.ts, head.ts[-1], "right")))).tail(REQUIRED_HISTORY_BARS)
                 for s, r in refs.items()}
        latest = compute_latest(head.tail(REQUIRED_HISTORY_BARS), names, tails)
        assert np.array_equal(latest, full[end - 1], equal_nan=True), end


def test_latest_on_a_tail_equals_full_history_for_every_weekday_hour_across_dst_and_holidays(build) -> None:
    # A bar every hour of Globex's week (24 a weekday, the 16:00 halt hour included), across the
    # November DST change and Labor Day, Thanksgiving and Christmas, whose hours join the next
    # trade date's session: the longest sessions.
    start = np.datetime64("2024-09-01T00:00", "ns").astype(np.int64)
    ts = build.weekday_hours(start + np.arange(24 * 120, dtype=np.int64) * NS_HOUR)
    rng = np.random.default_rng(4)
    close = build.on_grid(50 * np.exp(np.cumsum(rng.normal(0, 0.01, ts.shape[0]))), 0.05)
    volume = rng.integers(0, 50, ts.shape[0]).astype(np.float64)
    bars = BarArrays("MBT", ts, close, close + 0.5, close - 0.5, close, volume, 0.05)
    names = feature_catalog(["MET"])
    refs = {"MET": BarArrays("MET", ts, close, close + 1, close - 1, close[::-1].copy(), volume, 0.05)}
    full = compute_features(bars, names, refs)
    for end in range(REQUIRED_HISTORY_BARS + 1000, len(bars) + 1, 37):
        assert np.array_equal(compute_latest(bars.slice(slice(0, end)), names, refs), full[end - 1],
                              equal_nan=True), end


def test_unknown_feature_names_are_rejected_with_all_of_them_listed(build) -> None:
    bars = build.random_bars("ES", 2, seed=1)
    for compute in (compute_features, compute_latest):
        with pytest.raises(ValueError, match=r"\['ibz', 'VX_hourly_z'\]"):
            compute(bars, ["ibs", "ibz", "VX_hourly_z"], {"ZB": bars})


def test_bars_out_of_time_order_are_rejected(build) -> None:
    bars = build.random_bars("ES", 2, seed=1)
    shuffled = bars.slice(slice(None, None, -1))
    with pytest.raises(ValueError, match="increasing"):
        compute_features(shuffled, ["ibs"])


def test_output_shapes_and_no_names(build) -> None:
    bars = build.random_bars("ES", 3, seed=1)
    assert compute_features(bars, list(BASE_FEATURES)).shape == (69, len(BASE_FEATURES))
    assert compute_features(bars, []).shape == (69, 0)
    assert compute_latest(bars, ["ibs", "hour"]).shape == (2,)
    assert compute_features(bars.slice(slice(0, 0)), ["ibs"]).shape == (0, 1)


def test_a_price_off_the_tick_grid_is_refused_naming_symbol_time_and_price(build) -> None:
    rows = [[10, 11, 9, 10, 1], [10, 11, 9, 10.004, 1]]
    bars = build.bars_from("ES", _hourly_ts(build, 2), rows)
    with pytest.raises(ValueError, match=r"ES: bar at 2024-01-09T00:00:00Z: close 10\.004 is not on the tick grid of 0\.01"):
        compute_features(bars, ["ibs"])
    with pytest.raises(ValueError, match="ES: .*close 10.004"):
        compute_latest(bars, ["ibs"])
    refs = {"VX": build.bars_from("VX", _hourly_ts(build, 1), [[10, 11.02, 9, 10, 1]], tick_size=0.05)}
    with pytest.raises(ValueError, match="VX: bar at 2024-01-08T23:00:00Z: high 11.02 .* grid of 0.05"):
        compute_features(build.bars_from("ES", _hourly_ts(build, 1), rows[:1]), ["VX_hourly_z"], refs)


def test_a_fractional_or_negative_volume_is_refused(build) -> None:
    for volume in (1.5, -1.0):
        bars = build.bars_from("ES", _hourly_ts(build, 1), [[10, 11, 9, 10, volume]])
        with pytest.raises(ValueError, match="ES: bar at .*: volume"):
            compute_features(bars, ["volume_z"])


def test_bars_without_a_tick_size_are_refused_naming_the_symbol(build) -> None:
    bars = build.random_bars("ES", 2, seed=1)
    with pytest.raises(ValueError, match="ES: no tick size"):
        compute_features(bars.with_tick_size(None), ["ibs"])
    with pytest.raises(ValueError, match="ZB: no tick size"):
        compute_features(bars, ["ZB_hourly_z"], {"ZB": replace(bars, symbol="ZB", tick_size=None)})
    with pytest.raises(ValueError, match="ES: tick size 0.0 must be a positive number"):
        compute_features(bars.with_tick_size(0.0), ["ibs"])


def test_references_not_asked_for_need_no_tick_size(build) -> None:
    bars = build.random_bars("ES", 2, seed=1)
    assert compute_features(bars, ["ibs"], {"ZB": bars.with_tick_size(None)}).shape == (46, 1)


def test_window_sums_stay_exact_at_the_largest_prices_and_volumes_accepted() -> None:
    # Prices jumping across the whole accepted range and volumes up to the limit: the int64
    # sums must not overflow. Checked against the same formula on Python's unbounded ints.
    from multialpha.features.kernel import MAX_TICKS, MAX_VOLUME

    rng = np.random.default_rng(8)
    n = 200
    close = rng.integers(-MAX_TICKS + 1, MAX_TICKS, n)
    high = np.maximum(close, rng.integers(-MAX_TICKS, MAX_TICKS + 1, n))
    low = np.minimum(close, rng.integers(-MAX_TICKS, MAX_TICKS + 1, n))
    volume = rng.choice([0, MAX_VOLUME], n)
    ts = np.arange(n, dtype=np.int64) * NS_HOUR
    bars = BarArrays("CL", ts, close * 1.0, high * 1.0, low * 1.0, close * 1.0, volume * 1.0, 1.0,
                     allows_negative_prices=True)
    f = compute_features(bars, ["close_z20", "volume_z", "atr_z"])

    def z(window: list[int]) -> float:
        w, total, squares = len(window), sum(window), sum(x * x for x in window)
        spread = w * squares - total * total
        return 0.0 if spread <= 0 else (w * window[-1] - total) / math.sqrt(float(spread))

    c, v, h, lo = close.tolist(), volume.tolist(), high.tolist(), low.tolist()
    tr = [max(h[i], c[i - 1]) - min(lo[i], c[i - 1]) for i in range(1, n)]
    atr = [sum(tr[j - 13:j + 1]) for j in range(13, n - 1)]  # atr[j - 13] is at bar j + 1
    for i in range(100, n):
        assert f[i, 0] == z(c[i - 19:i + 1])
        assert f[i, 1] == z(v[i - 19:i + 1])
        assert f[i, 2] == z(atr[i - 63:i - 13])


def test_read_only_bar_arrays_are_taken_as_they_are(build) -> None:
    # Bars loaded from parquet can be read-only views of Arrow memory.
    from multialpha.strategy.indicators import atr_series

    bars = build.random_bars("ES", 30, seed=4)
    frozen = {f: getattr(bars, f).copy() for f in ("ts", "open", "high", "low", "close", "volume")}
    for a in frozen.values():
        a.flags.writeable = False
    ro = BarArrays("ES", **frozen, tick_size=bars.tick_size)
    names = feature_catalog(["ZB"])
    assert np.array_equal(compute_features(ro, names, {"ZB": ro}), compute_features(bars, names, {"ZB": bars}),
                          equal_nan=True)
    assert np.array_equal(atr_series(ro), atr_series(bars), equal_nan=True)
