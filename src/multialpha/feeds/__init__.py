"""Where bars come from: replay files, Databento live (with warm-up) and DBN files.

The Databento-backed names load the ``databento`` client on first use, so replay and research
code that never touches it does not pay for importing it.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from multialpha.feeds.hourly import CompletedHour, HourlyAggregator
from multialpha.feeds.prices import PriceGrid
from multialpha.feeds.replay_source import ReplaySource
from multialpha.feeds.source import BarSource, FeedStatus
from multialpha.feeds.symbology import ContractBook, ContractFor

if TYPE_CHECKING:
    from multialpha.feeds.databento_live import DatabentoLiveSource
    from multialpha.feeds.dbn_bars import DbnDataError, read_dbn_bars, store_bars
    from multialpha.feeds.live_client import DatabentoConnector, GatewayUnavailable, LiveConnector
    from multialpha.feeds.warmup import DatabentoHistory, FileHistory, HistorySource

_LAZY = {
    "DatabentoLiveSource": "databento_live",
    "DbnDataError": "dbn_bars", "read_dbn_bars": "dbn_bars", "store_bars": "dbn_bars",
    "DatabentoConnector": "live_client", "GatewayUnavailable": "live_client", "LiveConnector": "live_client",
    "DatabentoHistory": "warmup", "FileHistory": "warmup", "HistorySource": "warmup",
}

__all__ = [
    "BarSource", "CompletedHour", "ContractBook", "ContractFor", "DatabentoConnector", "DatabentoHistory",
    "DatabentoLiveSource", "DbnDataError", "FeedStatus", "FileHistory", "GatewayUnavailable", "HistorySource",
    "HourlyAggregator", "LiveConnector", "PriceGrid", "ReplaySource", "read_dbn_bars", "store_bars",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'multialpha.feeds' has no attribute {name!r}")
    return getattr(import_module(f"multialpha.feeds.{module}"), name)
