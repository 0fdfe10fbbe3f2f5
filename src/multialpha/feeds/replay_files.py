"""Hourly bar files for replay and research: one ``<SYMBOL>.csv`` or ``<SYMBOL>.parquet`` per symbol.

Columns ``ts,open,high,low,close,volume`` (others are ignored). ``ts`` is the bar's start:
in CSV an ISO-8601 timestamp with a timezone (``2024-01-02T14:00:00Z``); in parquet a
timezone-aware timestamp, int64 nanoseconds since the epoch (UTC) or such ISO strings.

A file is checked in full on load. The first problem (in file order) is raised as a
``BarFileError`` naming the file, the CSV line (the header is line 1) or the parquet row
(0-based), the ts and the column, with how many more rows have the same kind of problem.
Bars most often spaced other than one hour apart (a daily file, say) are reported before
anything else; bars starting while CME Globex is closed (the daily 16:00-17:00 Chicago halt,
the weekend) are a problem too (``bar_times``).
Given the contract's tick size, prices off its grid are such a problem too, and the bars
carry the tick size on to the feature engine. A price <= 0 is a problem unless the contract
allows negative prices (contracts.yml ``allows_negative_prices``: CL and NG), which the bars
then carry on to the feature engine too.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, NoReturn

import numpy as np
import pandas as pd

from multialpha.errors import DataError
from multialpha.features.bars import BAR_SECONDS, NS_PER_SECOND, BarArrays, iso_utc
from multialpha.features.kernel import GRID_TOL
from multialpha.feeds.bar_times import closed_times, off_spacing

BAR_COLUMNS = ("ts", "open", "high", "low", "close", "volume")
VALUE_COLUMNS = BAR_COLUMNS[1:]
SUFFIXES = (".csv", ".parquet")
_BAR_NS = BAR_SECONDS * NS_PER_SECOND
# Timestamps int64 nanoseconds can hold; others count as unparseable.
_NS_MIN = pd.Timestamp("1678-01-01", tz="UTC")
_NS_MAX = pd.Timestamp("2261-12-31", tz="UTC")
# A ts with a time of day followed by "Z" or a UTC offset such as +00:00, -0600, +01.
_TZ_PATTERN = r"\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:[Zz]|[+-]\d{2}(?::?\d{2})?)\s*$"


class BarFileError(DataError):
    """A bar file is missing, ambiguous or invalid; says where and what."""

    def __init__(self, file: str | Path, message: str, *, line: int | None = None,
                 row: int | None = None, ts: str | None = None, column: str | None = None,
                 more: int = 0) -> None:
        where = [str(file)]
        if line is not None:
            where.append(f"line {line}")
        if row is not None:
            where.append(f"row {row}")
        if ts is not None:
            where.append(f"ts {ts}")
        if column is not None:
            where.append(f"column {column!r}")
        text = ": ".join([*where, message])
        if more:
            text += f" (and {more} more row(s) with this problem)"
        super().__init__(text)
        self.file, self.line, self.row, self.ts, self.column, self.more = (
            str(file), line, row, ts, column, more)


def find_bar_file(data_dir: str | Path, symbol: str) -> Path:
    """The one bar file of ``symbol`` in ``data_dir``."""
    directory = Path(data_dir)
    if not directory.is_dir():
        raise BarFileError(directory, f"bar directory for {symbol!r} does not exist")
    found = [directory / f"{symbol}{suffix}" for suffix in SUFFIXES]
    found = [p for p in found if p.is_file()]
    if not found:
        raise BarFileError(directory, f"no bar file for {symbol!r} (looked for "
                                      f"{', '.join(symbol + s for s in SUFFIXES)})")
    if len(found) > 1:
        raise BarFileError(directory, f"more than one bar file for {symbol!r}: "
                                      f"{', '.join(p.name for p in found)}; keep one")
    return found[0]


def load_symbols(data_dir: str | Path, symbols: Iterable[str],
                 tick_sizes: Mapping[str, float] | None = None,
                 negative_prices: Collection[str] = ()) -> dict[str, BarArrays]:
    """Bars of each symbol from its file in ``data_dir``, in the order given.

    ``tick_sizes`` (e.g. from the contract specs) is attached to each symbol's bars and its
    prices are checked against it; a symbol it does not list gets no tick size. The symbols
    in ``negative_prices`` (contracts that allow negative prices) may have prices <= 0.
    """
    ticks = tick_sizes or {}
    return {s: load_bar_file(find_bar_file(data_dir, s), s, ticks.get(s),
                             allows_negative_prices=s in negative_prices) for s in symbols}


def load_bar_file(path: str | Path, symbol: str, tick_size: float | None = None, *,
                  allows_negative_prices: bool = False) -> BarArrays:
    """Read and fully validate one bar file (format by suffix); prices on the ``tick_size``
    grid when one is given, and positive unless ``allows_negative_prices``."""
    file = Path(path)
    if file.suffix not in SUFFIXES:
        raise BarFileError(file, f"unknown bar file type {file.suffix!r}; expected one of {SUFFIXES}")
    if not file.is_file():
        raise BarFileError(file, f"bar file for {symbol!r} not found")
    table = _read_csv(file) if file.suffix == ".csv" else _read_parquet(file)
    _validate(file, table, tick_size, None if allows_negative_prices else symbol)
    v = table.values
    return BarArrays(symbol, table.ts_ns, v["open"], v["high"], v["low"], v["close"], v["volume"],
                     tick_size, allows_negative_prices)


@dataclass
class _Table:
    """Columns as read, before validation, with how to quote a row and say where it is."""

    ts_ns: np.ndarray  # int64; undefined where ts_ok is False
    ts_ok: np.ndarray  # parsed
    ts_aware: np.ndarray  # carried a timezone
    ts_text: Callable[[int], str]
    values: dict[str, np.ndarray]
    value_text: Callable[[str, int], str]
    locate: Callable[[int], dict[str, int]]  # row index -> {"line": n} or {"row": n}
    blank: np.ndarray  # CSV rows with every field empty


def _missing_columns(file: Path, found: list[str], line: int | None = None) -> None:
    missing = [c for c in BAR_COLUMNS if c not in found]
    if missing:
        raise BarFileError(file, f"missing column(s) {missing}; found {found}", line=line)


def _parse_ts_text(text: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    parsed = pd.to_datetime(text, format="ISO8601", utc=True, errors="coerce")
    parsed = parsed.where((parsed >= _NS_MIN) & (parsed <= _NS_MAX))
    ok = parsed.notna().to_numpy()
    ts_ns = parsed.dt.tz_localize(None).to_numpy(dtype="datetime64[ns]").view(np.int64)
    aware = text.str.endswith("Z").to_numpy(dtype=bool).copy()
    if not aware.all():
        others = ~aware
        aware[others] = text[others].str.contains(_TZ_PATTERN, regex=True).to_numpy(dtype=bool)
    return ts_ns, ok, aware


def read_csv_refusing(file: Path, *, empty: str, **options: Any) -> pd.DataFrame:
    """``pandas.read_csv`` (UTF-8, blank lines kept, nothing read as NaN) with its failures as one
    BarFileError naming the file and, where pandas says it, the line; ``empty`` words an empty file."""
    try:
        return pd.read_csv(file, keep_default_na=False, skip_blank_lines=False, encoding="utf-8-sig", **options)
    except pd.errors.EmptyDataError:
        raise BarFileError(file, f"empty file ({empty})") from None
    except pd.errors.ParserError as exc:
        line = re.search(r"line (\d+)", str(exc))
        raise BarFileError(file, f"not valid CSV: {str(exc).strip()}",
                           line=int(line.group(1)) if line else None) from None
    except UnicodeDecodeError as exc:
        raise BarFileError(file, f"not UTF-8 text: {exc}") from None


def _read_frame(file: Path, numeric: bool) -> pd.DataFrame:
    dtype: dict[str, type] = {c: np.float64 for c in VALUE_COLUMNS} if numeric else {}
    return read_csv_refusing(file, empty="no header, no bars", dtype={"ts": str, **dtype})


def _read_csv(file: Path) -> _Table:
    # Fast path: the C parser converts the numbers. Anything it cannot convert (an empty
    # field, a blank line, a word) sends us to reading text, to say where and what.
    try:
        frame = _read_frame(file, numeric=True)
    except ValueError:  # a field the float parser refused
        frame = _read_frame(file, numeric=False)
    frame.columns = [str(c).strip() for c in frame.columns]
    _missing_columns(file, list(frame.columns), line=1)
    frame = frame[list(BAR_COLUMNS)]
    numeric = all(frame[c].dtype == np.float64 for c in VALUE_COLUMNS)
    if numeric:
        blank = np.zeros(len(frame), dtype=bool)
    else:
        blank = (frame.astype(str) == "").all(axis=1).to_numpy()
        # A file may end with blank lines; a blank line between bars is an error.
        keep = len(frame) - int(np.argmin(blank[::-1])) if not blank.all() else 0
        frame, blank = frame.iloc[:keep], blank[:keep]
    ts_ns, ok, aware = _parse_ts_text(frame["ts"].str.strip())
    values = {c: np.ascontiguousarray(pd.to_numeric(frame[c], errors="coerce"), dtype=np.float64)
              for c in VALUE_COLUMNS}

    def text(column: str, i: int) -> str:
        return repr(str(frame[column].iloc[i]))

    return _Table(ts_ns, ok, aware, lambda i: text("ts", i), values, text,
                  lambda i: {"line": i + 2}, blank)


def _read_parquet(file: Path) -> _Table:
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(file)
    except (pa.ArrowInvalid, OSError) as exc:
        raise BarFileError(file, f"not a readable parquet file: {exc}") from None
    _missing_columns(file, table.column_names)
    n = table.num_rows
    ts_col = table.column("ts")
    ts_type = ts_col.type
    if pa.types.is_timestamp(ts_type):
        ok = ts_col.is_valid().to_numpy(zero_copy_only=False)
        aware = np.full(n, ts_type.tz is not None)
        ints = pc.cast(ts_col, pa.timestamp("ns", tz=ts_type.tz)).cast(pa.int64())
        ts_ns = ints.fill_null(0).to_numpy()
    elif pa.types.is_integer(ts_type):
        ok = ts_col.is_valid().to_numpy(zero_copy_only=False)
        aware = np.ones(n, dtype=bool)
        ts_ns = ts_col.cast(pa.int64()).fill_null(0).to_numpy()
    elif pa.types.is_string(ts_type) or pa.types.is_large_string(ts_type):
        ts_ns, ok, aware = _parse_ts_text(ts_col.to_pandas().fillna("").str.strip())
    else:
        raise BarFileError(file, f"ts column has type {ts_type}; expected a timezone-aware "
                                 "timestamp, int64 ns UTC or ISO-8601 text", column="ts")
    values = {}
    for c in VALUE_COLUMNS:
        try:
            values[c] = table.column(c).cast(pa.float64()).to_numpy(zero_copy_only=False)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise BarFileError(file, f"not numeric: {exc}", column=c) from None
        values[c] = np.ascontiguousarray(values[c])

    def ts_text(i: int) -> str:
        return iso_utc(ts_ns[i]) if ok[i] and aware[i] else repr(ts_col[i].as_py())

    return _Table(np.ascontiguousarray(ts_ns, dtype=np.int64), ok, aware, ts_text, values,
                  lambda c, i: repr(float(values[c][i])), lambda i: {"row": i}, np.zeros(n, dtype=bool))


def _off_grid(values: np.ndarray, tick_size: float | None) -> np.ndarray:
    """Prices further than a millionth of a tick from a whole number of ticks (the feature
    engine's own test)."""
    if tick_size is None:
        return np.zeros(values.shape[0], dtype=bool)
    ticks = values / tick_size
    return ~(np.abs(ticks - np.rint(ticks)) <= GRID_TOL)


def _validate(file: Path, t: _Table, tick_size: float | None = None, positive_for: str | None = None) -> None:
    """Raise the first problem of ``t``; prices must be positive when ``positive_for`` names the
    symbol (its contract does not allow negative prices)."""
    n = t.ts_ok.shape[0]
    if n == 0:
        raise BarFileError(file, "empty file (no bars)")
    good = t.ts_ok & t.ts_aware
    both = good[1:] & good[:-1]
    step = np.diff(t.ts_ns)
    following = np.zeros(n, dtype=bool)  # rows compared with the previous row
    dup, back = following.copy(), following.copy()
    dup[1:] = both & (step == 0)
    back[1:] = both & (step < 0)
    on_hour = good & (t.ts_ns % _BAR_NS == 0)
    spacing = off_spacing(t.ts_ns, on_hour[1:] & on_hour[:-1])
    if spacing is not None:  # the whole file is other bars: say so before any row-level problem
        _raise(file, t, spacing[0], "ts", lambda i: spacing[1])
    weekend, halt = closed_times(t.ts_ns)
    v = t.values
    finite = {c: np.isfinite(v[c]) for c in VALUE_COLUMNS}
    with np.errstate(invalid="ignore"):
        checks: list[tuple[np.ndarray, str | None, Callable[[int], str]]] = [
            (t.blank, None, lambda i: "blank line"),
            (~t.ts_ok & ~t.blank, "ts", lambda i: "ts is empty or not an ISO-8601 timestamp"),
            (t.ts_ok & ~t.ts_aware, "ts", lambda i: "ts has no timezone (write e.g. 2024-01-02T14:00:00Z)"),
            (good & ~on_hour, "ts", lambda i: "ts is not on a clock hour"),
            (dup, "ts", lambda i: f"duplicate ts (same as {_where(t, i - 1)})"),
            (back, "ts", lambda i: f"ts is earlier than the previous bar's ({_where(t, i - 1)}): out of order"),
            (good & weekend, "ts", lambda i: "bar starts while CME Globex is closed for the weekend "
                                             "(Friday 16:00 to Sunday 17:00 Chicago)"),
            (good & halt, "ts", lambda i: "bar starts in CME Globex's daily maintenance halt "
                                          "(16:00-17:00 Chicago)"),
            *[(~finite[c] & ~t.blank, c, _bad_number(t, c)) for c in VALUE_COLUMNS],
            (v["high"] < np.maximum(v["open"], v["close"]), "high",
             lambda i: f"high {float(v['high'][i])!r} is below max(open, close) "
                       f"{float(max(v['open'][i], v['close'][i]))!r}"),
            (v["low"] > np.minimum(v["open"], v["close"]), "low",
             lambda i: f"low {float(v['low'][i])!r} is above min(open, close) "
                       f"{float(min(v['open'][i], v['close'][i]))!r}"),
            (v["volume"] < 0, "volume", lambda i: f"volume {float(v['volume'][i])!r} is negative"),
            *[(finite[c] & _off_grid(v[c], tick_size), c, _not_on_grid(v, c, tick_size))
              for c in VALUE_COLUMNS[:4]],
            *[(finite[c] & (v[c] <= 0), c, _not_positive(v, c, positive_for))
              for c in VALUE_COLUMNS[:4] if positive_for is not None],
        ]
    firsts = [int(np.argmax(mask)) if mask.any() else n for mask, _, _ in checks]
    row = min(firsts)
    if row == n:
        return
    mask, column, message = checks[firsts.index(row)]
    _raise(file, t, mask, column, message)


def _raise(file: Path, t: _Table, mask: np.ndarray, column: str | None, message: Callable[[int], str]) -> NoReturn:
    """The error for the first row of ``mask``, counting the others."""
    row = int(np.argmax(mask))
    ts = None if t.blank[row] else t.ts_text(row)
    raise BarFileError(file, message(row), ts=ts, column=column, more=int(mask.sum()) - 1,
                       **t.locate(row))


def _where(t: _Table, i: int) -> str:
    return ", ".join(f"{k} {n}" for k, n in t.locate(i).items())


def _not_on_grid(v: dict[str, np.ndarray], column: str, tick_size: float | None) -> Callable[[int], str]:
    def message(i: int) -> str:
        return f"{column} {float(v[column][i])!r} is not on the tick grid of {tick_size!r}"
    return message


def _not_positive(v: dict[str, np.ndarray], column: str, symbol: str | None) -> Callable[[int], str]:
    def message(i: int) -> str:
        return (f"{column} {float(v[column][i])!r} is not positive, and {symbol}'s contract does not allow "
                "negative prices (contracts.yml allows_negative_prices)")
    return message


def _bad_number(t: _Table, column: str) -> Callable[[int], str]:
    def message(i: int) -> str:
        value = t.value_text(column, i)
        return f"{column} is empty" if value == "''" else f"{column} is not a finite number: {value}"
    return message


def write_bar_file(path: str | Path, bars: BarArrays) -> Path:
    """Write ``bars`` as CSV or parquet (by suffix), replacing the file atomically."""
    file = Path(path)
    if file.suffix not in SUFFIXES:
        raise ValueError(f"{file}: unknown bar file type {file.suffix!r}; expected one of {SUFFIXES}")
    tmp = file.with_name(f".{file.name}.tmp")
    if file.suffix == ".csv":
        tmp.write_text(_csv_text(bars), encoding="utf-8")
    else:
        _write_parquet(tmp, bars)
    os.replace(tmp, file)
    return file


def _csv_text(bars: BarArrays) -> str:
    unit: Literal["s", "ns"] = "s" if not np.any(bars.ts % NS_PER_SECOND) else "ns"
    ts = np.datetime_as_string(bars.ts.astype("datetime64[ns]"), unit=unit, timezone="UTC").tolist()
    vol = bars.volume
    volume = (vol.astype(np.int64).tolist() if np.all(np.isfinite(vol)) and np.all(vol == np.round(vol))
              else [repr(x) for x in vol.tolist()])
    rows = zip(ts, bars.open.tolist(), bars.high.tolist(), bars.low.tolist(), bars.close.tolist(),
               volume, strict=True)
    lines = [",".join(BAR_COLUMNS)]
    lines.extend(f"{t},{o!r},{h!r},{lo!r},{c!r},{v}" for t, o, h, lo, c, v in rows)
    return "\n".join(lines) + "\n"


def _write_parquet(file: Path, bars: BarArrays) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({
        "ts": pa.array(bars.ts.astype(np.int64), type=pa.int64()).cast(pa.timestamp("ns", tz="UTC")),
        **{c: pa.array(np.asarray(getattr(bars, c), dtype=np.float64)) for c in VALUE_COLUMNS},
    })
    pq.write_table(table, file)
