"""Row checks on vendor bars before they become hourly bars.

Every check runs over the whole file; the first problem in file order is raised as one
``BarFileError`` naming the line (CSV) or row (parquet), the ts, the vendor column and how
many more rows have the same problem.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from multialpha.research.data.vendor_file import VendorTable

from multialpha.features.bars import iso_utc
from multialpha.feeds.replay_files import VALUE_COLUMNS, BarFileError

Check = tuple[np.ndarray, str | None, Callable[[int], str]]


@dataclass(frozen=True)
class RowBars:
    """The kept rows as numbers; ``rows`` are their positions in the file's table."""

    ts: np.ndarray  # int64 ns UTC, as stamped (bar start or end)
    values: dict[str, np.ndarray]  # open, high, low, close, volume as float64
    rows: np.ndarray


def numbers(table: VendorTable, columns: Mapping[str, tuple[int, ...]], ts: np.ndarray,
            kept: np.ndarray) -> RowBars:
    """The kept rows' prices and volume, checked; raises the first problem in file order."""
    rows = np.flatnonzero(kept)
    values = {f: _floats(table.columns[columns[f][0]])[rows] for f in VALUE_COLUMNS}
    bars = RowBars(np.asarray(ts, dtype=np.int64)[rows], values, rows)
    raise_first(table, bars, _checks(table, columns, bars), columns["ts"])
    return bars


def _floats(column: pd.Series) -> np.ndarray:
    """A column as float64, NaN where a value is not a number."""
    try:
        return column.to_numpy(dtype=np.float64)  # every value a number: the fast path
    except (ValueError, TypeError):
        return pd.to_numeric(column, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)


def _checks(table: VendorTable, columns: Mapping[str, tuple[int, ...]], bars: RowBars) -> list[Check]:
    v, ts, rows = bars.values, bars.ts, bars.rows
    n = ts.shape[0]
    step = np.diff(ts)
    dup, back = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    dup[1:], back[1:] = step == 0, step < 0
    finite = {f: np.isfinite(v[f]) for f in VALUE_COLUMNS}
    ok = np.logical_and.reduce(list(finite.values()))
    label = {f: table.label(columns[f][0]) for f in VALUE_COLUMNS}
    ts_label = "+".join(table.label(i) for i in columns["ts"])

    def where(j: int) -> str:
        return ", ".join(f"{k} {x}" for k, x in table.where(int(rows[j])).items())

    def bad_number(f: str) -> Callable[[int], str]:
        def message(j: int) -> str:
            text = table.text(columns[f][0], int(rows[j]))
            return f"{f} is empty" if text == "''" else f"{f} is not a finite number: {text}"
        return message

    with np.errstate(invalid="ignore"):
        return [
            (dup, ts_label, lambda j: f"duplicate ts {iso_utc(int(ts[j]))} (the same instant as {where(j - 1)})"),
            (back, ts_label, lambda j: f"ts {iso_utc(int(ts[j]))} is earlier than {where(j - 1)}'s "
                                       f"({iso_utc(int(ts[j - 1]))}): rows must be oldest first"),
            *[(~finite[f], label[f], bad_number(f)) for f in VALUE_COLUMNS],
            (ok & (v["high"] < v["low"]), label["high"],
             lambda j: f"high {float(v['high'][j])!r} is below low {float(v['low'][j])!r}"),
            (ok & (v["high"] < np.maximum(v["open"], v["close"])), label["high"],
             lambda j: f"high {float(v['high'][j])!r} is below max(open, close) "
                       f"{float(max(v['open'][j], v['close'][j]))!r}"),
            (ok & (v["low"] > np.minimum(v["open"], v["close"])), label["low"],
             lambda j: f"low {float(v['low'][j])!r} is above min(open, close) "
                       f"{float(min(v['open'][j], v['close'][j]))!r}"),
            (ok & (v["volume"] < 0), label["volume"], lambda j: f"volume {float(v['volume'][j])!r} is negative"),
        ]


def raise_first(table: VendorTable, bars: RowBars, checks: list[Check], ts_columns: tuple[int, ...]) -> None:
    """Raise the problem found on the earliest row (the first check listed on a tie), quoting
    the row's ts as the file has it."""
    n = bars.ts.shape[0]
    firsts = [int(np.argmax(mask)) if mask.any() else n for mask, _, _ in checks]
    j = min(firsts, default=n)
    if j == n:
        return
    mask, column, message = checks[firsts.index(j)]
    row = int(bars.rows[j])
    raise BarFileError(table.file, message(j), ts=table.ts_text(ts_columns, row), column=column,
                       more=int(mask.sum()) - 1, **table.where(row))
