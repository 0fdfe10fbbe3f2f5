"""The one feature engine, shared by research and live.

Each symbol's features come from a compiled per-bar update over a small fixed state (prices
in whole ticks, exact integer window sums): ``OnlineFeatures`` runs it bar by bar in the
daemon, ``compute_features`` runs it over whole arrays in research (each reference symbol once,
with ``reference_features``).
"""

from multialpha.features.bars import BarArrays
from multialpha.features.catalog import (
    BASE_FEATURES,
    REF_SUFFIXES,
    REQUIRED_HISTORY_BARS,
    feature_catalog,
    unknown_features,
)
from multialpha.features.daily import DailyBars, daily_bars, trading_day_ids
from multialpha.features.engine import Reference, compute_features, compute_latest
from multialpha.features.online import FeatureBook, OnlineFeatures
from multialpha.features.references import ReferenceFeatures, reference_features

__all__ = [
    "BASE_FEATURES",
    "REF_SUFFIXES",
    "REQUIRED_HISTORY_BARS",
    "BarArrays",
    "DailyBars",
    "FeatureBook",
    "OnlineFeatures",
    "Reference",
    "ReferenceFeatures",
    "compute_features",
    "compute_latest",
    "daily_bars",
    "feature_catalog",
    "reference_features",
    "trading_day_ids",
    "unknown_features",
]
