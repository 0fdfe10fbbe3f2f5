"""Prices at or below zero: taken for contracts that allow them (CL, NG), refused for the rest."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from multialpha.features import BASE_FEATURES, BarArrays, OnlineFeatures, compute_features
from multialpha.strategy.indicators import atr_series

RETURNS = ["bar_return", "prev_bar_return", "day_return", "prev_day_return"]
SHIFT_FREE = [f for f in BASE_FEATURES if f not in RETURNS]  # unchanged when every price moves by a constant


def _crude(build, shift: float = 0.0) -> BarArrays:
    """CL through April 2020's collapse: hourly closes falling from 20 to -40 and back to 10."""
    ts = [t for d in build.trade_dates(date(2020, 4, 1), 12) for t in build.session_ts(d)]
    n = len(ts)
    rng = np.random.default_rng(3)
    path = np.concatenate((np.linspace(20, -40, n // 2), np.linspace(-40, 10, n - n // 2)))
    close = np.round(path + rng.normal(0, 0.3, n), 2) + shift
    open_ = np.concatenate(([close[0]], close[:-1]))
    high = np.maximum(open_, close) + np.round(rng.uniform(0, 0.5, n), 2)
    low = np.minimum(open_, close) - np.round(rng.uniform(0, 0.5, n), 2)
    volume = rng.integers(1, 500, n).astype(np.float64)
    return build.bars_from("CL", ts, np.column_stack((open_, high, low, close, volume))).with_negative_prices()


def test_features_that_do_not_depend_on_the_price_level_are_the_same_below_zero(build) -> None:
    crude = _crude(build)
    assert (crude.close < 0).any() and (crude.close > 0).any()
    below = compute_features(crude, SHIFT_FREE)
    above = compute_features(_crude(build, shift=100.0), SHIFT_FREE)  # the same bars, all prices positive
    assert np.array_equal(below, above, equal_nan=True)
    assert not np.isnan(below[-1]).any()


def test_a_return_from_a_price_at_or_below_zero_is_nan(build) -> None:
    crude = _crude(build)
    ret = compute_features(crude, ["bar_return"])[:, 0]
    base = crude.close[:-1]
    assert np.isnan(ret[1:][base <= 0]).all()
    positive = base > 0
    assert np.allclose(ret[1:][positive], crude.close[1:][positive] / base[positive] - 1, rtol=0, atol=1e-12)
    assert (ret[1:][positive] < -1).any()  # from above zero to below: a loss of more than all of it


def test_the_live_engine_gives_the_research_rows_below_zero(build) -> None:
    crude = _crude(build)
    full = compute_features(crude, list(BASE_FEATURES))
    engine = OnlineFeatures("CL", 0.01, allows_negative_prices=True)
    for i in range(len(crude)):
        engine.update(int(crude.ts[i]), *(float(getattr(crude, f)[i]) for f in ("open", "high", "low", "close",
                                                                                 "volume")))
    assert np.array_equal(engine.row(list(BASE_FEATURES)), full[-1], equal_nan=True)
    assert engine.atr() == atr_series(crude)[-1]


def test_a_price_at_or_below_zero_is_refused_for_a_contract_that_does_not_allow_it(build) -> None:
    bars = build.bars_from("ES", build.session_ts(date(2024, 1, 9), range(3)),
                           [(10, 11, 9, 10, 1), (10, 11, 0, 10, 1), (10, 11, 9, 10, 1)], tick_size=0.25)
    with pytest.raises(ValueError, match=r"ES: bar at 2024-01-09T00:00:00Z: low 0.0 is not positive, and ES's "
                                         r"contract does not allow negative prices"):
        compute_features(bars, ["ibs"])
    with pytest.raises(ValueError, match="low 0.0 is not positive"):
        atr_series(bars)
    engine = OnlineFeatures("ES", 0.25)
    engine.update(int(bars.ts[0]), 10.0, 11.0, 9.0, 10.0, 1.0)
    with pytest.raises(ValueError, match="close -1.0 is not positive"):
        engine.update(int(bars.ts[1]), 10.0, 11.0, 9.0, -1.0, 1.0)
    assert engine.bars_seen == 1  # the refused bar left the engine as it was
