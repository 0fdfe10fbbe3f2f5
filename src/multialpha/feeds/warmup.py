"""Where the live feed's warm-up bars come from: local bar files, or Databento historical.

Either way the result is hourly bars with a start before ``end_ns`` (the first live bar);
the live source keeps the last ``warmup_bars`` bar times of them. Historical data goes
through ``store_bars``, the same aggregation the live stream and DBN files use.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Protocol

import databento
import numpy as np
import pandas as pd
from databento.common.error import BentoError

from multialpha.features.bars import NS_PER_SECOND, BarArrays
from multialpha.feeds.dbn_bars import BAR_SCHEMAS, DbnDataError, store_bars
from multialpha.feeds.hourly import hour_start
from multialpha.feeds.live_client import DEFAULT_DATASET, GatewayUnavailable
from multialpha.feeds.replay_files import load_symbols
from multialpha.feeds.symbology import ContractBook, ContractFor, trade_date

log = logging.getLogger(__name__)


class HistorySource(Protocol):
    def bars(self, symbols: Sequence[str], end_ns: int) -> dict[str, BarArrays]:
        """Hourly bars of each symbol starting before ``end_ns`` (ns UTC), oldest first."""
        ...


def before(bars: BarArrays, end_ns: int) -> BarArrays:
    """The bars that start before ``end_ns`` (views)."""
    return bars.slice(slice(0, int(np.searchsorted(bars.ts, end_ns, side="left"))))


class FileHistory:
    """Warm-up from the project's bar files (``<SYMBOL>.csv|.parquet`` in ``data_dir``)."""

    def __init__(self, data_dir: str | Path, tick_sizes: Mapping[str, float] | None = None) -> None:
        self.data_dir = Path(data_dir)
        self._ticks = dict(tick_sizes or {})

    def bars(self, symbols: Sequence[str], end_ns: int) -> dict[str, BarArrays]:
        loaded = load_symbols(self.data_dir, symbols, self._ticks)
        return {s: before(b, end_ns) for s, b in loaded.items()}


class DatabentoHistory:
    """Warm-up from Databento historical (``timeseries.get_range``) over the last
    ``lookback_days`` (600 hourly bars are about 26 trading days; the default leaves room for
    holidays), for the contracts ``contract_for`` names on those days.

    The range ends at the dataset's available end when that is earlier (historical data
    trails real time; the live replay covers the rest), rounded down to a whole hour so no
    partial hour becomes a bar.
    """

    def __init__(self, client: databento.Historical, *, contract_for: ContractFor,
                 dataset: str = DEFAULT_DATASET, schema: str = "ohlcv-1m", lookback_days: int = 45,
                 tick_sizes: Mapping[str, float] | None = None) -> None:
        if schema not in {str(s) for s in BAR_SCHEMAS}:
            raise ValueError(f"schema must be one of {[str(s) for s in BAR_SCHEMAS]}, got {schema!r}")
        if lookback_days < 1:
            raise ValueError("lookback_days must be >= 1")
        self._client = client
        self._contract_for = contract_for
        self.dataset, self.schema, self.lookback_days = dataset, schema, lookback_days
        self._ticks = dict(tick_sizes or {})

    def bars(self, symbols: Sequence[str], end_ns: int) -> dict[str, BarArrays]:
        where = f"Databento historical {self.dataset} {self.schema}"
        end_ns = min(end_ns, self._available_end_ns(where))
        start_ns = end_ns - int(timedelta(days=self.lookback_days).total_seconds()) * NS_PER_SECOND
        book = ContractBook(symbols, self._contract_for)
        contracts = book.contracts(trade_date(start_ns), trade_date(end_ns - 1))
        try:
            store = self._client.timeseries.get_range(
                dataset=self.dataset, start=start_ns, end=end_ns, symbols=contracts,
                schema=self.schema, stype_in="raw_symbol")
        except BentoError as exc:
            raise GatewayUnavailable(f"{where}: get_range of {', '.join(contracts)} failed: {exc}") from None
        bars = store_bars(store, source=where, symbols=symbols, contract_for=self._contract_for,
                          tick_sizes=self._ticks)
        return {s: before(b, end_ns) for s, b in bars.items()}

    def _available_end_ns(self, where: str) -> int:
        try:
            found = self._client.metadata.get_dataset_range(dataset=self.dataset)
        except BentoError as exc:
            raise GatewayUnavailable(f"{where}: get_dataset_range failed: {exc}") from None
        per_schema = found.get("schema")
        entry = per_schema.get(self.schema) if isinstance(per_schema, Mapping) else None
        end = entry.get("end") if isinstance(entry, Mapping) else found.get("end")
        if not isinstance(end, str):
            raise DbnDataError(where, f"get_dataset_range gave no end: {found!r}")
        return hour_start(pd.Timestamp(end).value)
