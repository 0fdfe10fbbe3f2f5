"""Vendor bars (CSV or parquet, any time zone, minute or hourly) into one hourly bar file.

The steps, each refusing bad input with one error naming the file, line or row, ts and
column: read the file as it is; find the columns; turn timestamps into UTC instants; check
order, numbers and OHLC consistency; work out the input bar length and each bar's start;
check or snap prices against the contract's tick grid; combine finer bars into UTC clock
hours (``multialpha.feeds.aggregate``); write ``<out_dir>/<SYMBOL>.csv|.parquet`` and read it
back with the loader replay and research use.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
from multialpha.research.data.bar_length import HOUR_SECONDS, BarLength, detect_bar_length
from multialpha.research.data.checks import RowBars, numbers, raise_first
from multialpha.research.data.columns import describe, resolve_columns
from multialpha.research.data.report import ImportReport
from multialpha.research.data.ticks import PRICE_FIELDS, Snapped, off_grid, snap
from multialpha.research.data.timestamps import Instants, TimeRules, to_instants
from multialpha.research.data.vendor_file import VendorTable, read_vendor_file
from multialpha.research.errors import ResearchError

from multialpha.contracts import DEFAULT_CONTRACTS_FILE, load_contracts, require
from multialpha.features.bars import BarArrays, iso_utc
from multialpha.feeds.aggregate import NS_PER_HOUR, HourlyBars, aggregate_hourly, hour_start
from multialpha.feeds.bar_times import closed_times
from multialpha.feeds.replay_files import BarFileError, load_bar_file, write_bar_file

TimestampIs = Literal["bar-start", "bar-end"]
OutputFormat = Literal["csv", "parquet"]
_STAMPS = {"bar-start": "each stamps its bar's start", "bar-end": "each stamps its bar's end"}


@dataclass(frozen=True)
class ImportOptions:
    """Everything ``import-bars`` takes besides the input and output paths."""

    symbol: str
    columns: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # parse_column_map
    times: TimeRules = field(default_factory=TimeRules)
    timestamp_is: TimestampIs = "bar-start"
    input_bar: BarLength | None = None  # None: the most common spacing
    snap_to_tick: bool = False
    keep_partial_edges: bool = False  # keep a first/last hour the input covers only in part
    fmt: OutputFormat = "csv"
    overwrite: bool = False

    def __post_init__(self) -> None:
        if self.timestamp_is not in _STAMPS:
            raise ResearchError(f"timestamp_is must be one of {list(_STAMPS)}, got {self.timestamp_is!r}")
        if self.fmt not in ("csv", "parquet"):
            raise ResearchError(f"format must be 'csv' or 'parquet', got {self.fmt!r}")


def import_bars(source: str | Path, out_dir: str | Path, options: ImportOptions,
                contracts_file: str | Path = DEFAULT_CONTRACTS_FILE) -> ImportReport:
    """Turn one vendor file into ``<out_dir>/<SYMBOL>.<fmt>``; see the module docstring."""
    tick = require(load_contracts(contracts_file), options.symbol, file=contracts_file).tick_size
    output = _output_path(Path(out_dir), options)
    table = read_vendor_file(source)
    columns = resolve_columns(table, options.columns)
    instants = to_instants(table, columns["ts"], options.times)
    rows = numbers(table, columns, instants.ts_ns, instants.kept)
    length = options.input_bar or detect_bar_length(rows.ts, str(table.file))
    starts = rows.ts - length.ns if options.timestamp_is == "bar-end" else rows.ts
    _check_starts(table, columns, rows, starts, length, options.timestamp_is)
    values, ticks = _on_grid(table, columns, rows, tick, options.snap_to_tick)
    hourly = aggregate_hourly(starts, *(values[f] for f in (*PRICE_FIELDS, "volume")))
    dropped = _dropped_rows(table, instants)
    if length.seconds < HOUR_SECONDS and not options.keep_partial_edges:
        hourly, edges = _drop_partial_edges(hourly, starts, length)
        dropped += edges
    hourly, closed = _drop_closed_hours(hourly)
    dropped += closed
    if hourly.ts.shape[0] == 0:
        raise ResearchError(f"{table.file}: no hourly bar left to write ({'; '.join(dropped)})")
    bars = BarArrays(options.symbol, hourly.ts, hourly.open, hourly.high, hourly.low, hourly.close,
                     hourly.volume, tick)
    _write_checked(output, bars)
    return ImportReport(
        source=table.file, output=output, symbol=options.symbol, rows_in=len(table),
        bars_out=len(bars), first_bar=iso_utc(int(bars.ts[0])), last_bar=iso_utc(int(bars.ts[-1])),
        columns=describe(table, columns), times=f"{instants.how}; {_STAMPS[options.timestamp_is]}",
        input_bar=f"{length}{' (detected: most common spacing)' if length.detected else ''}",
        aggregated=length.seconds < HOUR_SECONDS, ticks=ticks, dropped=tuple(dropped))


def _output_path(out_dir: Path, options: ImportOptions) -> Path:
    path = out_dir / f"{options.symbol}.{options.fmt}"
    other = path.with_suffix(".parquet" if options.fmt == "csv" else ".csv")
    if other.exists():
        raise ResearchError(f"{out_dir} already holds {other.name}; a data directory keeps one bar "
                            f"file per symbol: remove it or write --format {other.suffix[1:]}")
    if path.exists() and not options.overwrite:
        raise ResearchError(f"{path} exists; pass --overwrite to replace it")
    return path


def _check_starts(table: VendorTable, columns: Mapping[str, tuple[int, ...]], rows: RowBars,
                  starts: np.ndarray, length: BarLength, timestamp_is: TimestampIs) -> None:
    """Every bar starts on a multiple of its length, so none straddles an hour."""
    misaligned = starts % length.ns != 0
    hint = ("; for bars stamped at their end pass --timestamp-is bar-end" if timestamp_is == "bar-start"
            else "; are the bars stamped at their start? then leave out --timestamp-is bar-end")
    boundary = "a clock hour" if length.seconds == HOUR_SECONDS else f"a {length} boundary"

    def message(j: int) -> str:
        return f"bar start {iso_utc(int(starts[j]))} is not on {boundary} ({length} bars){hint}"

    raise_first(table, rows, [(misaligned, "+".join(table.label(i) for i in columns["ts"]), message)],
                columns["ts"])


def _on_grid(table: VendorTable, columns: Mapping[str, tuple[int, ...]], rows: RowBars, tick: float,
             snap_to_tick: bool) -> tuple[dict[str, np.ndarray], str]:
    """Prices snapped to the grid (when asked) and a line for the report; off the grid without
    ``snap_to_tick`` is an error naming the line."""
    if snap_to_tick:
        values, moved = snap(rows.values, tick)
        return values, _snap_text(table, columns, rows, moved, tick)
    checks = []
    for f in PRICE_FIELDS:
        prices = rows.values[f]

        def message(j: int, f: str = f, prices: np.ndarray = prices) -> str:
            return (f"{f} {float(prices[j])!r} is not on the tick grid of {tick!r}; "
                    "round prices to it with --snap-to-tick")
        checks.append((off_grid(prices, tick), table.label(columns[f][0]), message))
    raise_first(table, rows, checks, columns["ts"])
    return rows.values, f"every price on the {tick!r} grid"


def _snap_text(table: VendorTable, columns: Mapping[str, tuple[int, ...]], rows: RowBars,
               moved: Snapped, tick: float) -> str:
    if not moved.moved or moved.largest_at is None:
        return f"--snap-to-tick: every price was already on the {tick!r} grid"
    j, f = moved.largest_at
    where = ", ".join(f"{k} {n}" for k, n in table.where(int(rows.rows[j])).items())
    return (f"snapped {moved.moved:,} of {moved.total:,} prices to the {tick!r} grid; largest "
            f"adjustment {moved.largest:.10g} ({moved.largest / tick:.2f} ticks) at {where}, "
            f"column {table.label(columns[f][0])!r}")


def _dropped_rows(table: VendorTable, instants: Instants) -> list[str]:
    gone = ~instants.kept
    if not gone.any():
        return []
    where = ", ".join(f"{k} {n}" for k, n in table.where(int(np.argmax(gone))).items())
    return [f"{int(gone.sum())} row(s) at local times that do not exist (--nonexistent drop), "
            f"the first at {where}"]


def _drop_closed_hours(hourly: HourlyBars) -> tuple[HourlyBars, list[str]]:
    """Leave out hours that start while CME Globex is closed (the weekend, the daily 16:00-17:00
    Chicago halt): the bar files refuse them, and vendors' settlement or off-hours prints land there."""
    weekend, halt = closed_times(hourly.ts)
    closed = weekend | halt
    if not closed.any():
        return hourly, []
    first = iso_utc(int(hourly.ts[int(np.argmax(closed))]))
    return HourlyBars(*(a[~closed] for a in hourly)), [
        f"{int(closed.sum())} hour(s) starting while CME Globex is closed (weekend, or the daily 16:00-17:00 "
        f"Chicago halt), the first {first}"]


def _drop_partial_edges(hourly: HourlyBars, starts: np.ndarray, length: BarLength
                        ) -> tuple[HourlyBars, list[str]]:
    """Leave out a first or last hour the input covers only in part (an export cut mid-hour)."""
    keep = np.ones(hourly.ts.shape[0], dtype=bool)
    why = []
    first, end = int(starts[0]), int(starts[-1]) + length.ns
    if first % NS_PER_HOUR:
        keep[0] = False
        why.append(f"hour {iso_utc(int(hour_start(starts[:1])[0]))}: the input starts mid-hour, "
                   f"at {iso_utc(first)}")
    if end % NS_PER_HOUR:
        keep[-1] = False
        why.append(f"hour {iso_utc(int(hour_start(starts[-1:])[0]))}: the input ends mid-hour, "
                   f"at {iso_utc(end)}")
    if why:
        why[-1] += " (keep such hours with --keep-partial-edges)"
    return HourlyBars(*(a[keep] for a in hourly)), why


def _write_checked(output: Path, bars: BarArrays) -> None:
    """Write to a temporary file beside the output, read it back with the bar-file loader,
    then move it into place."""
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(f".{output.stem}.importing{output.suffix}")
    try:
        write_bar_file(tmp, bars)
        back = load_bar_file(tmp, bars.symbol, bars.tick_size)
        if not np.array_equal(back.ts, bars.ts):
            raise ResearchError(f"{output}: the written bars do not read back the same")
        os.replace(tmp, output)
    except BarFileError as exc:
        raise ResearchError(f"{output}: the written bars do not read back: {exc}") from None
    finally:
        tmp.unlink(missing_ok=True)
