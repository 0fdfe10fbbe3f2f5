"""Finite-window indicators against numbers worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from multialpha.features import indicators as ind


def test_ibs_is_close_position_in_range_and_half_for_a_flat_bar() -> None:
    high = np.array([12.0, 5.0, 10.0])
    low = np.array([8.0, 5.0, 9.0])
    close = np.array([11.0, 5.0, 9.0])
    assert ind.ibs(high, low, close).tolist() == [0.75, 0.5, 0.0]


def test_simple_return_and_lag_leave_missing_history_nan() -> None:
    x = np.array([100.0, 110.0, 99.0])
    r = ind.simple_return(x)
    assert math.isnan(r[0])
    assert r[1:] == pytest.approx([0.1, -0.1], abs=1e-15)
    lagged = ind.lag(x, 2)
    assert np.isnan(lagged[:2]).all() and lagged[2] == 100.0


def test_window_sum_is_nan_until_the_window_is_full() -> None:
    out = ind.window_sum(np.array([1.0, 2.0, 3.0, 4.0]), 3)
    assert np.isnan(out[:2]).all()
    assert out[2:].tolist() == [6.0, 9.0]


def test_rolling_zscore_of_one_to_twenty_uses_population_std() -> None:
    x = np.arange(1.0, 21.0)
    z = ind.rolling_zscore(x, 20)
    # mean 10.5; population variance of 1..20 is (20**2 - 1) / 12
    assert z[-1] == pytest.approx((20 - 10.5) / math.sqrt(399 / 12), rel=1e-14)
    assert np.isnan(z[:19]).all()


def test_rolling_zscore_of_a_flat_window_is_zero_even_with_rounding_in_the_mean() -> None:
    x = np.full(30, 0.1)  # 0.1 * 20 is not exact in binary; the std must still count as 0
    assert (ind.rolling_zscore(x, 20)[19:] == 0.0).all()


def test_pct_rank_counts_values_at_or_below_the_current_one_including_itself() -> None:
    x = np.array([3.0, 1.0, 2.0, 2.0, 5.0, 0.0])
    out = ind.pct_rank(x, 4)
    # windows: [3,1,2,2] -> 3 of 4 are <= 2; [1,2,2,5] -> 4/4; [2,2,5,0] -> 1/4
    assert np.isnan(out[:3]).all()
    assert out[3:].tolist() == [0.75, 1.0, 0.25]


def test_pct_rank_is_nan_when_the_window_holds_a_nan() -> None:
    x = np.array([np.nan, 1.0, 2.0, 3.0, 4.0])
    out = ind.pct_rank(x, 3)
    assert math.isnan(out[2]) and out[3] == 1.0 and out[4] == 1.0


def test_cutler_rsi_is_share_of_gains_in_total_movement() -> None:
    close = np.array([10.0, 11.0, 10.5])
    assert ind.cutler_rsi(close, 2)[-1] == pytest.approx(100 * 1.0 / 1.5)
    # seven +1 moves and seven -0.5 moves: 100 * 7 / (7 + 3.5)
    steps = [1.0, -0.5] * 7
    close14 = np.concatenate(([50.0], 50.0 + np.cumsum(steps)))
    assert ind.cutler_rsi(close14, 14)[-1] == pytest.approx(100 * 7 / 10.5)


def test_cutler_rsi_is_fifty_without_movement() -> None:
    assert ind.cutler_rsi(np.full(5, 7.0), 2)[2:].tolist() == [50.0, 50.0, 50.0]


def test_true_range_reaches_to_the_previous_close_across_a_gap() -> None:
    high = np.array([10.0, 15.0, 9.0])
    low = np.array([9.0, 14.0, 8.0])
    close = np.array([9.5, 14.5, 8.5])
    tr = ind.true_range(high, low, close)
    # bar 1 gapped up from 9.5: 15 - 9.5; bar 2 gapped down from 14.5: 14.5 - 8
    assert math.isnan(tr[0]) and tr[1:].tolist() == [5.5, 6.5]


def test_sma_atr_is_plain_mean_of_true_ranges() -> None:
    close = np.full(6, 10.0)
    width = np.array([0.0, 1.0, 2.0, 3.0, 4.0, 5.0])
    atr = ind.sma_atr(10 + width / 2, 10 - width / 2, close, 3)
    assert np.isnan(atr[:3]).all()
    assert atr[3:].tolist() == [2.0, 3.0, 4.0]


@pytest.mark.parametrize("window", [20, 50])
def test_small_and_large_inputs_add_in_the_same_order_so_results_are_identical(window: int) -> None:
    # The matrix path (few rows) and the loop path (many rows) must agree bit for bit.
    x = np.random.default_rng(3).lognormal(3.0, 1.0, 5000)
    big_mean, big_std = ind.rolling_mean_std(x, window)
    for end in (window + 5, window + 7, 2000, 5000):
        small_mean, small_std = ind.rolling_mean_std(x[end - window - 5:end], window, start=window + 4)
        assert small_mean[-1] == big_mean[end - 1]
        assert small_std[-1] == big_std[end - 1]


def test_start_skips_earlier_rows_without_changing_later_ones() -> None:
    x = np.random.default_rng(1).normal(size=300)
    full = ind.rolling_zscore(x, 20)
    part = ind.rolling_zscore(x, 20, start=250)
    assert np.isnan(part[:250]).all()
    assert np.array_equal(part[250:], full[250:])
