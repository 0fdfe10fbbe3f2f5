"""Sharpe, PSR, expected maximum Sharpe and DSR against hand-computed and published values."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest
from multialpha.research.stats import (
    EULER_MASCHERONI,
    ReturnMoments,
    annualized_sharpe_ratio,
    annualized_sortino_ratio,
    deflated_sharpe_ratio,
    expected_max_sharpe_ratio,
    probabilistic_sharpe_ratio,
    return_moments,
    sharpe_ratio,
    sharpe_ratio_std_error,
)

# -- hand-computed --------------------------------------------------------------------------------
# returns 0, 0, 0, 4: mean 1; deviations -1, -1, -1, 3
#   sample variance (ddof=1) = (1 + 1 + 1 + 9) / 3 = 4 -> sd 2 -> Sharpe 1 / 2 = 0.5
#   population m2 = 12/4 = 3, m3 = (-1 - 1 - 1 + 27)/4 = 6, m4 = (1 + 1 + 1 + 81)/4 = 21
#   skew = 6 / 3**1.5 = 2 / sqrt(3); kurtosis = 21 / 9 = 7/3
SKEWED = [0.0, 0.0, 0.0, 4.0]


def test_sharpe_ratio_is_mean_over_sample_std() -> None:
    assert sharpe_ratio(SKEWED) == pytest.approx(0.5)


def test_annualized_sharpe_ratio_scales_by_sqrt_periods() -> None:
    assert annualized_sharpe_ratio(SKEWED) == pytest.approx(0.5 * math.sqrt(252))
    assert annualized_sharpe_ratio(SKEWED, periods_per_year=12) == pytest.approx(0.5 * math.sqrt(12))


# Daily USD P&L of a week: +300, -500, 0, +500, -200 (mean 20).
WEEK_PNL = [300.0, -500.0, 0.0, 500.0, -200.0]


def test_annualized_sharpe_ratio_of_daily_pnl_hand_computed() -> None:
    # deviations 280, -520, -20, 480, -220; squares sum 628000; variance 628000 / 4 = 157000
    # Sharpe = 20 / sqrt(157000) * sqrt(252) = 0.0504754 * 15.874508 = 0.801273
    assert annualized_sharpe_ratio(WEEK_PNL) == pytest.approx(20 / math.sqrt(157000) * math.sqrt(252))
    assert annualized_sharpe_ratio(WEEK_PNL) == pytest.approx(0.801273, abs=1e-6)


def test_annualized_sortino_ratio_uses_downside_deviation_against_zero_over_all_days() -> None:
    # downside deviation over all 5 days: sqrt((500**2 + 200**2) / 5) = sqrt(58000) = 240.8319
    # Sortino = 20 / 240.8319 * sqrt(252) = 0.0830455 * 15.874508 = 1.318306
    assert annualized_sortino_ratio(WEEK_PNL) == pytest.approx(20 / math.sqrt(58000) * math.sqrt(252))
    assert annualized_sortino_ratio(WEEK_PNL) == pytest.approx(1.318306, abs=1e-6)
    assert annualized_sortino_ratio(WEEK_PNL, periods_per_year=12) == pytest.approx(20 / math.sqrt(58000) * math.sqrt(12))


def test_annualized_sortino_ratio_when_nothing_lost() -> None:
    assert annualized_sortino_ratio([0.0, 10.0]) == math.inf
    assert math.isnan(annualized_sortino_ratio([0.0, 0.0]))


def test_return_moments_are_population_skew_and_plain_kurtosis() -> None:
    assert return_moments(SKEWED) == ReturnMoments(
        n_obs=4, sharpe=pytest.approx(0.5), skew=pytest.approx(2 / math.sqrt(3)), kurtosis=pytest.approx(7 / 3))


def test_return_moments_when_symmetric_then_zero_skew() -> None:
    # 1, 2, 3, 4: deviations +-0.5, +-1.5; m2 = 1.25, m4 = 2.5625 -> kurtosis 2.5625 / 1.5625 = 1.64
    m = return_moments([1.0, 2.0, 3.0, 4.0])
    assert m.skew == pytest.approx(0.0, abs=1e-12)
    assert m.kurtosis == pytest.approx(1.64)


def test_sharpe_ratio_when_returns_constant_then_nan() -> None:
    assert math.isnan(sharpe_ratio([0.01, 0.01, 0.01]))
    assert math.isnan(return_moments([0.0, 0.0]).kurtosis)


@pytest.mark.parametrize("returns", [[1.0], [], [[1.0, 2.0]], [1.0, float("nan")]])
def test_sharpe_ratio_when_returns_unusable_then_value_error_names_returns(returns: list) -> None:
    with pytest.raises(ValueError, match="returns"):
        sharpe_ratio(returns)


def test_psr_when_sharpe_equals_benchmark_then_one_half() -> None:
    assert probabilistic_sharpe_ratio(0.2, 50, benchmark=0.2, skew=-1.0, kurtosis=6.0) == pytest.approx(0.5)


def test_psr_normal_returns_hand_computed() -> None:
    # SR 0.1 over 101 returns, normal: se = sqrt((1 + (3 - 1)/4 * 0.01) / 100) = sqrt(1.005) / 10
    # z = 0.1 / se = 1 / sqrt(1.005) = 0.997509; Phi(0.997509) = 0.840741
    assert sharpe_ratio_std_error(0.1, 101) == pytest.approx(math.sqrt(1.005) / 10)
    assert probabilistic_sharpe_ratio(0.1, 101) == pytest.approx(0.840741, abs=1e-6)


def test_psr_matches_the_sharpe_ratio_efficient_frontier_example() -> None:
    # Bailey & Lopez de Prado (2012), "The Sharpe Ratio Efficient Frontier", J. of Risk 15(2):
    # 24 monthly returns, annualised SR 1.585 (monthly 1.585 / sqrt(12)), skewness -2.448,
    # kurtosis 10.164 -> PSR(0) = 0.9132 (the value 0.91323430688486 is also the one the
    # esvhd/pypbo test suite checks for this example).
    psr = probabilistic_sharpe_ratio(1.585 / math.sqrt(12), 24, benchmark=0.0, skew=-2.448, kurtosis=10.164)
    assert psr == pytest.approx(0.9132343, abs=1e-7)


def test_psr_when_returns_negatively_skewed_and_fat_tailed_then_lower_than_normal() -> None:
    sr = 1.585 / math.sqrt(12)
    normal = probabilistic_sharpe_ratio(sr, 24)
    assert normal > probabilistic_sharpe_ratio(sr, 24, skew=-2.448, kurtosis=10.164)
    # normal: z = 0.457550 * sqrt(23) / sqrt(1 + 0.457550**2 / 2) = 2.194334 / 1.051035 = 2.087782
    assert normal == pytest.approx(0.981591, abs=1e-6)  # Phi(2.087782)


def test_expected_max_sharpe_when_100_trials_unit_variance_then_2_5306() -> None:
    # (1 - g) * Phi^-1(0.99) + g * Phi^-1(1 - 1/(100 e)) = 0.422784 * 2.326348 + 0.577216 * 2.680210
    assert abs(EULER_MASCHERONI - 0.5772156649) < 1e-10
    assert expected_max_sharpe_ratio(100, 1.0) == pytest.approx(2.5306, abs=1e-4)


def test_expected_max_sharpe_scales_with_the_trials_standard_deviation() -> None:
    assert expected_max_sharpe_ratio(100, 0.25) == pytest.approx(0.5 * expected_max_sharpe_ratio(100, 1.0))
    assert expected_max_sharpe_ratio(100, 0.0) == 0.0
    assert expected_max_sharpe_ratio(1, 0.3) == 0.0  # one trial: nothing was selected


def test_dsr_matches_the_deflated_sharpe_ratio_paper_example() -> None:
    # Bailey & Lopez de Prado (2014), "The Deflated Sharpe Ratio", J. of Portfolio Management
    # 40(5), numerical example: N = 100 trials whose annualised Sharpe ratios have variance 1/2,
    # the best with annualised SR 2.5 over 5 years of daily returns (T = 1250, 250 days a year),
    # skewness -3, kurtosis 10 -> SR0 = 0.1132 per day (about 1.79 annualised), DSR = 0.9004.
    days_per_year, n_obs = 250, 1250
    variance_per_day = 0.5 / days_per_year
    sr0 = expected_max_sharpe_ratio(100, variance_per_day)
    assert sr0 == pytest.approx(0.1132, abs=5e-5)
    dsr = deflated_sharpe_ratio(2.5 / math.sqrt(days_per_year), n_obs, n_trials=100,
                                trials_sharpe_variance=variance_per_day, skew=-3.0, kurtosis=10.0)
    assert dsr == pytest.approx(0.9004, abs=5e-5)
    assert dsr == pytest.approx(probabilistic_sharpe_ratio(2.5 / math.sqrt(days_per_year), n_obs,
                                                           benchmark=sr0, skew=-3.0, kurtosis=10.0))


def test_dsr_when_one_trial_then_psr_against_zero() -> None:
    assert deflated_sharpe_ratio(0.1, 101, n_trials=1, trials_sharpe_variance=0.5) == \
        pytest.approx(probabilistic_sharpe_ratio(0.1, 101))


def test_dsr_when_more_trials_then_lower() -> None:
    values = [deflated_sharpe_ratio(0.1, 500, n_trials=n, trials_sharpe_variance=0.002) for n in (2, 10, 100, 1000)]
    assert values == sorted(values, reverse=True)


@pytest.mark.parametrize(("call", "argument"), [
    (lambda: probabilistic_sharpe_ratio(0.1, 1), "n_obs"),
    (lambda: probabilistic_sharpe_ratio(0.1, 10.0), "n_obs"),  # a float count is refused
    (lambda: probabilistic_sharpe_ratio(0.1, 100, kurtosis=0.0), "non-excess"),  # excess kurtosis of a normal
    (lambda: probabilistic_sharpe_ratio(0.1, 100, skew=-3.0, kurtosis=9.0), "kurtosis"),  # below 1 + skew**2
    (lambda: probabilistic_sharpe_ratio(float("nan"), 100), "sharpe"),
    (lambda: probabilistic_sharpe_ratio(0.1, 100, benchmark=float("inf")), "benchmark"),
    (lambda: expected_max_sharpe_ratio(0, 1.0), "n_trials"),
    (lambda: expected_max_sharpe_ratio(10, -0.1), "trials_sharpe_variance"),
    (lambda: deflated_sharpe_ratio(0.1, 100, n_trials=0, trials_sharpe_variance=1.0), "n_trials"),
    (lambda: annualized_sharpe_ratio([1.0, 2.0], periods_per_year=0), "periods_per_year"),
    (lambda: annualized_sortino_ratio([1.0, 2.0], periods_per_year=-1), "periods_per_year"),
    (lambda: annualized_sortino_ratio([1.0]), "returns"),
])
def test_when_argument_invalid_then_value_error_names_it(call: Callable[[], object], argument: str) -> None:
    with pytest.raises(ValueError, match=argument):
        call()


def test_functions_accept_numpy_scalars() -> None:
    assert probabilistic_sharpe_ratio(np.float64(0.1), np.int64(101)) == pytest.approx(0.840741, abs=1e-6)
    assert expected_max_sharpe_ratio(np.int64(100), np.float64(1.0)) == pytest.approx(2.5306, abs=1e-4)
