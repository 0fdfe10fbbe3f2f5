"""The one feature engine: pure functions over bar arrays, shared by research and live."""

from multialpha.features.bars import BarArrays
from multialpha.features.catalog import (
    BASE_FEATURES,
    REF_SUFFIXES,
    REQUIRED_HISTORY_BARS,
    feature_catalog,
    unknown_features,
)
from multialpha.features.daily import DailyBars, daily_bars, trading_day_ids
from multialpha.features.engine import compute_features, compute_latest

__all__ = [
    "BASE_FEATURES",
    "REF_SUFFIXES",
    "REQUIRED_HISTORY_BARS",
    "BarArrays",
    "DailyBars",
    "compute_features",
    "compute_latest",
    "daily_bars",
    "feature_catalog",
    "trading_day_ids",
    "unknown_features",
]
