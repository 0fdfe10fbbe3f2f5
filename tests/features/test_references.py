"""Reference features computed once and joined as of each bar: the same numbers as the live book."""

from __future__ import annotations

import numpy as np
import pytest

from multialpha.features import (
    BarArrays,
    FeatureBook,
    ReferenceFeatures,
    compute_features,
    feature_catalog,
    reference_features,
)

NS_HOUR = 3600 * 1_000_000_000


def _thinned(bars: BarArrays, seed: int, keep: float) -> BarArrays:
    mask = np.random.default_rng(seed).random(len(bars)) < keep
    return BarArrays(bars.symbol, bars.ts[mask], bars.open[mask], bars.high[mask], bars.low[mask],
                     bars.close[mask], bars.volume[mask], bars.tick_size)


def _book_rows(own: BarArrays, refs: dict[str, BarArrays], names: list[str]) -> np.ndarray:
    """Every own bar's row from the live engines, fed all bars in time order (references first)."""
    book = FeatureBook({own.symbol: own.tick_size, **{s: r.tick_size for s, r in refs.items()}})
    events = [(int(b.ts[i]), 0 if s in refs else 1, s, i) for s, b in {**refs, own.symbol: own}.items()
              for i in range(len(b))]
    series = {**refs, own.symbol: own}
    rows = []
    for _, _, s, i in sorted(events):
        b = series[s]
        book.update(s, int(b.ts[i]), b.open[i], b.high[i], b.low[i], b.close[i], b.volume[i])
        if s == own.symbol:
            rows.append(book.row(s, names))
    return np.array(rows)


def test_joined_tables_equal_the_live_book_bit_for_bit_with_gappy_references(build) -> None:
    own = _thinned(build.random_bars("ES", 40, seed=5), seed=1, keep=0.8)
    refs = {"VX": _thinned(build.random_bars("VX", 40, seed=6, tick_size=0.05), seed=2, keep=0.6),
            "ZB": build.random_bars("ZB", 42, seed=7, tick_size=0.03125)}  # runs on past ES's end
    names = feature_catalog(refs)
    expected = _book_rows(own, refs, names)
    tables = {s: reference_features(r) for s, r in refs.items()}
    assert np.array_equal(compute_features(own, names, tables), expected, equal_nan=True)
    assert np.array_equal(compute_features(own, names, refs), expected, equal_nan=True)
    assert not np.isnan(expected[-1]).any()


def test_one_table_serves_every_symbol(build) -> None:
    ref = build.random_bars("VX", 30, seed=6, tick_size=0.05)
    table = reference_features(ref)
    names = ["ibs", "VX_hourly_z", "VX_daily_return"]
    for seed, symbol in enumerate(("ES", "NQ", "CL")):
        own = _thinned(build.random_bars(symbol, 30, seed=seed), seed=seed, keep=0.7)
        assert np.array_equal(compute_features(own, names, {"VX": table}),
                              compute_features(own, names, {"VX": ref}), equal_nan=True), symbol


def test_asof_is_nan_before_the_first_reference_bar_and_exact_at_equal_starts(build) -> None:
    ref = build.random_bars("VX", 3, seed=6, tick_size=0.05)
    table = reference_features(ref)
    assert isinstance(table, ReferenceFeatures) and len(table) == len(ref)
    ts = np.array([ref.ts[0] - NS_HOUR, ref.ts[0], ref.ts[5], ref.ts[-1] + 10 * NS_HOUR])
    got = table.asof(ts, ["hourly_return", "hourly_z"])
    assert np.isnan(got[0]).all()
    assert np.isnan(got[1, 0])  # a first bar has no return yet
    assert got[2, 0] == pytest.approx(ref.close[5] / ref.close[4] - 1.0)
    assert np.array_equal(got[3], table.asof(ref.ts[-1:], ["hourly_return", "hourly_z"])[0], equal_nan=True)
    empty = reference_features(ref.slice(slice(0, 0)))
    assert np.isnan(empty.asof(ts, ["daily_z"])).all()


def test_bars_after_the_cut_are_never_read(build) -> None:
    ref = build.random_bars("VX", 3, seed=6, tick_size=0.05)
    close = ref.close.copy()
    close[-1] = 12.3456  # off the 0.05 grid
    bad = BarArrays("VX", ref.ts, ref.open, ref.high, ref.low, close, ref.volume, ref.tick_size)
    with pytest.raises(ValueError, match=r"VX: bar at .*close 12.3456 is not on the tick grid of 0.05"):
        reference_features(bad)
    table = reference_features(bad, until_ns=int(ref.ts[-2]))
    assert len(table) == len(ref) - 1
    own = build.random_bars("ES", 3, seed=1).slice(slice(0, len(ref) - 1))
    # Given as bars, a reference is read up to the own series' last bar only.
    assert np.array_equal(compute_features(own, ["VX_hourly_z"], {"VX": bad}),
                          compute_features(own, ["VX_hourly_z"], {"VX": table}), equal_nan=True)


def test_a_reference_without_a_tick_size_is_refused_naming_it(build) -> None:
    ref = build.random_bars("VX", 2, seed=6, tick_size=0.05).with_tick_size(None)
    with pytest.raises(ValueError, match="VX: no tick size"):
        reference_features(ref)
