"""Research statistics: Sharpe ratios and their significance (PSR, DSR). Pure functions."""

from multialpha.research.stats.sharpe import (
    EULER_MASCHERONI,
    ReturnMoments,
    annualized_sharpe_ratio,
    deflated_sharpe_ratio,
    expected_max_sharpe_ratio,
    probabilistic_sharpe_ratio,
    return_moments,
    sharpe_ratio,
    sharpe_ratio_std_error,
)

__all__ = [
    "EULER_MASCHERONI",
    "ReturnMoments",
    "annualized_sharpe_ratio",
    "deflated_sharpe_ratio",
    "expected_max_sharpe_ratio",
    "probabilistic_sharpe_ratio",
    "return_moments",
    "sharpe_ratio",
    "sharpe_ratio_std_error",
]
