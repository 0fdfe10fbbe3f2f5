"""Databento DBN data (a file, or a historical response) into the project's hourly bars.

Accepts ``ohlcv-1m`` or ``ohlcv-1h`` in continuous symbology (``ES.c.0`` gives symbol ``ES``)
or explicit contracts (``ESZ4``, ``ESH5``: stitched per trade date with ``contract_for``, the
rule the live feed subscribes by). Records go through ``HourlyAggregator``, the code the live
feed uses, so a file, a historical download and the live stream give the same bars.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from pathlib import Path

import databento_dbn as dbn
import numpy as np
from databento import DBNStore
from databento.common.error import BentoError
from databento.common.symbology import InstrumentMap

from multialpha.errors import DataError
from multialpha.features.bars import NS_PER_SECOND, BarArrays
from multialpha.feeds.hourly import CompletedHour, HourlyAggregator, hour_start
from multialpha.feeds.symbology import ContractBook, ContractFor, continuous_root

BAR_SCHEMAS = (dbn.Schema.OHLCV_1M, dbn.Schema.OHLCV_1H)
_SCHEMA_NAMES = " or ".join(str(s) for s in BAR_SCHEMAS)


class DbnDataError(DataError):
    """DBN data cannot become bars; names the file (or request) and what is wrong."""

    def __init__(self, source: str | Path, message: str) -> None:
        super().__init__(f"{source}: {message}")
        self.source = str(source)


def read_dbn_bars(path: str | Path, *, symbols: Iterable[str] | None = None,
                  contract_for: ContractFor | None = None,
                  tick_sizes: Mapping[str, float] | None = None) -> dict[str, BarArrays]:
    """Hourly bars per symbol from a DBN file (``.dbn`` or ``.dbn.zst``).

    ``symbols`` picks (and requires) those symbols; for a file of explicit contracts it is
    required, with ``contract_for``. ``tick_sizes`` snaps prices to each symbol's tick grid
    and is carried on the bars.
    """
    file = Path(path)
    if not file.is_file():
        raise DbnDataError(file, "DBN file not found")
    if file.stat().st_size == 0:
        raise DbnDataError(file, "empty file (no DBN metadata, no records)")
    try:
        store = DBNStore.from_file(file)
        store.metadata  # noqa: B018 - decodes the header, so a bad file fails here
    except (ValueError, BentoError, dbn.DBNError) as exc:
        raise DbnDataError(file, f"not a readable DBN file: {exc}") from None
    return store_bars(store, source=file, symbols=symbols, contract_for=contract_for,
                      tick_sizes=tick_sizes)


def store_bars(store: DBNStore, *, source: str | Path, symbols: Iterable[str] | None = None,
               contract_for: ContractFor | None = None,
               tick_sizes: Mapping[str, float] | None = None) -> dict[str, BarArrays]:
    """Hourly bars per symbol from a decoded DBN store (a file or a historical response)."""
    meta = store.metadata
    if meta.schema not in BAR_SCHEMAS:
        found = "mixed schemas" if meta.schema is None else f"schema {meta.schema}"
        raise DbnDataError(source, f"{found}; expected {_SCHEMA_NAMES}")
    wanted = None if symbols is None else list(dict.fromkeys(symbols))
    resolve = _Resolver(source, meta, wanted, contract_for)
    ticks = dict(tick_sizes or {})
    agg = HourlyAggregator(ticks)
    hours: list[CompletedHour] = []
    seen = 0
    try:
        for record in store:
            if isinstance(record, dbn.SymbolMappingMsg):
                resolve.instruments.insert_symbol_mapping_msg(record)
            elif isinstance(record, dbn.OHLCVMsg):
                seen += 1
                symbol = resolve(record.instrument_id, record.ts_event)
                if symbol is not None:
                    hours += agg.add(symbol, record.ts_event, record.open, record.high, record.low,
                                     record.close, record.volume)
    except (BentoError, dbn.DBNError) as exc:
        raise DbnDataError(source, f"cannot decode records: {exc}") from None
    hours += agg.flush()
    if seen == 0:
        raise DbnDataError(source, "no OHLCV records (empty data)")
    names = wanted if wanted is not None else sorted({s for h in hours for s in h.bars})
    bars = {s: _bar_arrays(s, hours, ticks.get(s)) for s in names}
    missing = [s for s, b in bars.items() if len(b) == 0]
    if missing:
        raise DbnDataError(source, f"no bars for symbol(s) {missing}; the data holds "
                                   f"{resolve.described()}")
    return bars


class _Resolver:
    """instrument_id and time -> our symbol, or None for a record no wanted symbol uses."""

    def __init__(self, source: str | Path, meta: dbn.Metadata, wanted: list[str] | None,
                 contract_for: ContractFor | None) -> None:
        self.instruments = InstrumentMap()
        self.instruments.insert_metadata(meta)
        self._file_symbols = list(meta.symbols)
        self._utc_day: dict[int, date] = {}
        self._book: ContractBook | None = None
        self._roots: dict[str, str] = {}
        stype = meta.stype_in
        if stype == dbn.SType.RAW_SYMBOL:
            if wanted is None or contract_for is None:
                raise DbnDataError(source, "holds explicit contracts "
                                           f"({', '.join(self._file_symbols[:6])}); stitching them needs "
                                           "the symbols and their contract_for rule")
            self._book = ContractBook(wanted, contract_for)
        elif stype == dbn.SType.CONTINUOUS:
            for raw in self._file_symbols:
                root = continuous_root(raw)
                if root is None:
                    raise DbnDataError(source, f"symbol {raw!r} is not a continuous symbol such as ES.c.0")
                if root in self._roots.values():
                    raise DbnDataError(source, f"more than one continuous series for {root!r}; "
                                               "keep one (e.g. only ES.c.0)")
                self._roots[raw] = root
            if wanted is not None:
                unknown = [s for s in wanted if s not in self._roots.values()]
                if unknown:
                    raise DbnDataError(source, f"unknown symbol(s) {unknown}; the file holds "
                                               f"{sorted(self._roots.values())} ({', '.join(self._file_symbols)})")
                self._roots = {raw: root for raw, root in self._roots.items() if root in wanted}
        else:
            raise DbnDataError(source, f"symbology {stype}; expected continuous symbols (ES.c.0) "
                                       "or explicit contracts (raw_symbol)")

    def described(self) -> str:
        return ", ".join(self._file_symbols) or "no symbols"

    def __call__(self, instrument_id: int, ts_ns: int) -> str | None:
        hour = hour_start(ts_ns)
        day = self._utc_day.get(hour)
        if day is None:
            day = self._utc_day[hour] = datetime.fromtimestamp(hour // NS_PER_SECOND, tz=UTC).date()
        symbol_in = self.instruments.resolve(instrument_id, day)
        if symbol_in is None:
            return None
        if self._book is not None:
            return self._book.symbol_of(symbol_in, ts_ns)
        return self._roots.get(symbol_in)


def _bar_arrays(symbol: str, hours: list[CompletedHour], tick_size: float | None) -> BarArrays:
    rows = [(h.ts_ns, h.bars[symbol]) for h in hours if symbol in h.bars]
    ts = np.array([t for t, _ in rows], dtype=np.int64)
    cols = np.array([b for _, b in rows], dtype=np.float64).reshape(len(rows), 5)
    o, h, low, c, v = (np.ascontiguousarray(cols[:, i]) for i in range(5))
    return BarArrays(symbol, ts, o, h, low, c, v, tick_size)
