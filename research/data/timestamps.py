"""Vendor timestamps to instants (int64 ns UTC), with time zones and daylight saving.

Text is read as ISO-8601 (``2024-01-02 09:30:00``, ``2024-01-02T09:30:00-05:00``) unless
``ts_format`` gives a strftime layout, or ``epoch-s|epoch-ms|epoch-us|epoch-ns`` for numbers
since 1970-01-01 UTC. Timestamps that carry a UTC offset (or a parquet timestamp type with a
zone) are instants already; naive ones are wall-clock time in ``tz`` (an IANA name such as
America/New_York). A naive time that happens twice when clocks go back (ambiguous) or not at
all when they go forward (nonexistent) is an error naming its line unless the rules say how
to resolve it:

* ``ambiguous``: ``infer`` (from the order of the rows: the first pass through the repeated
  hour is daylight time, the second standard time), ``earlier`` (daylight time), ``later``
  (standard time);
* ``nonexistent``: ``shift-forward`` (to the first instant after the gap, e.g. 02:30 becomes
  03:00), ``drop`` (leave the row out; the report counts it).
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from typing import Any, Literal, NoReturn, get_args

import numpy as np
import pandas as pd
from multialpha.research.data.vendor_file import VendorTable
from multialpha.research.errors import ResearchError

from multialpha.feeds.replay_files import BarFileError

Ambiguous = Literal["error", "infer", "earlier", "later"]
Nonexistent = Literal["error", "shift-forward", "drop"]
EPOCH_UNITS = {"epoch-s": "s", "epoch-ms": "ms", "epoch-us": "us", "epoch-ns": "ns"}
_NAT = np.iinfo(np.int64).min  # how NaT reads as int64
_NS_RANGE = (pd.Timestamp("1678-01-01"), pd.Timestamp("2261-12-31"))  # what int64 ns can hold
# Text ending in "Z" or a UTC offset (+00:00, -0500, +01) after a time of day.
_OFFSET = r"\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:[Zz]|[+-]\d{2}(?::?\d{2})?)$"


@dataclass(frozen=True)
class TimeRules:
    """How to read the ts column (see the module docstring)."""

    tz: str | None = None
    ts_format: str | None = None
    ambiguous: Ambiguous = "error"
    nonexistent: Nonexistent = "error"

    def __post_init__(self) -> None:
        for name, value, allowed in (("ambiguous", self.ambiguous, get_args(Ambiguous)),
                                     ("nonexistent", self.nonexistent, get_args(Nonexistent))):
            if value not in allowed:
                raise ResearchError(f"--{name} must be one of {'|'.join(allowed)}, got {value!r}")


@dataclass(frozen=True)
class Instants:
    """Each row's instant; ``kept`` is False for rows left out (nonexistent local times)."""

    ts_ns: np.ndarray  # int64 ns UTC; meaningless where not kept
    kept: np.ndarray
    how: str  # how they were read, for the report


def to_instants(table: VendorTable, columns: tuple[int, ...], rules: TimeRules) -> Instants:
    """Parse the ts column(s) of ``table``; the first bad row raises a BarFileError."""
    label = "+".join(table.label(i) for i in columns)
    raw = _joined(table, columns)
    if rules.ts_format in EPOCH_UNITS:
        parsed, aware, how = _epoch(table, raw, label, rules), True, f"{rules.ts_format} (UTC)"
    elif isinstance(raw.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(raw.dtype):
        if rules.ts_format is not None:
            raise ResearchError(f"--ts-format {rules.ts_format}: {table.file}: ts is stored as "
                                "timestamps already; leave --ts-format out")
        aware = isinstance(raw.dtype, pd.DatetimeTZDtype)
        parsed = pd.DatetimeIndex(raw)
        how = "timestamps with a time zone" if aware else "naive timestamps"
    elif pd.api.types.is_numeric_dtype(raw.dtype):
        raise BarFileError(table.file, "ts holds numbers; say their unit with --ts-format "
                                       "epoch-s|epoch-ms|epoch-us|epoch-ns", column=label)
    else:
        parsed, aware, how = _text(table, raw.astype(str), label, rules)
    _refuse_missing_or_out_of_range(table, parsed, columns, label)
    if aware:
        if rules.tz is not None:
            raise ResearchError(f"--tz {rules.tz}: {table.file}: ts already carries its time zone "
                                f"({how}); leave --tz out")
        utc = parsed.tz_convert("UTC") if parsed.tz is not None else parsed.tz_localize("UTC")
        return Instants(_ns(utc), np.ones(len(utc), dtype=bool), how)
    if rules.tz is None:
        raise BarFileError(table.file, "ts has no time zone; say which with --tz (e.g. "
                                       "America/New_York, America/Chicago or UTC)",
                           ts=table.ts_text(columns, 0), column=label, **table.where(0))
    return _localize(table, parsed, label, rules, how)


def _refuse_missing_or_out_of_range(table: VendorTable, parsed: pd.DatetimeIndex,
                                    columns: tuple[int, ...], label: str) -> None:
    lo, hi = _NS_RANGE
    if parsed.tz is not None:
        lo, hi = lo.tz_localize("UTC"), hi.tz_localize("UTC")
    for bad, what in ((np.asarray(parsed.isna()), "ts is empty"),  # a null in a typed column
                      (np.asarray((parsed < lo) | (parsed > hi)), "ts is outside the years 1678-2261")):
        if bad.any():
            i = int(np.argmax(bad))
            raise BarFileError(table.file, what, ts=table.ts_text(columns, i), column=label,
                               more=int(bad.sum()) - 1, **table.where(i))


def _joined(table: VendorTable, columns: tuple[int, ...]) -> pd.Series:
    if len(columns) == 1:
        return table.columns[columns[0]]
    first, second = (table.columns[i].astype(str).str.strip() for i in columns)
    return first + " " + second


def _epoch(table: VendorTable, raw: pd.Series, label: str, rules: TimeRules) -> pd.DatetimeIndex:
    numbers = pd.to_numeric(raw, errors="coerce")
    bad = numbers.isna().to_numpy()
    if bad.any():
        i = int(np.argmax(bad))
        raise BarFileError(table.file, f"ts is not a number of {rules.ts_format}",
                           ts=repr(str(raw.iloc[i])),
                           column=label, more=int(bad.sum()) - 1, **table.where(i))
    unit = EPOCH_UNITS[str(rules.ts_format)]
    parsed = pd.DatetimeIndex(pd.to_datetime(numbers, unit=unit, utc=True, errors="coerce"))
    huge = np.asarray(parsed.isna())
    if huge.any():
        i = int(np.argmax(huge))
        raise BarFileError(table.file, f"ts is too large for {rules.ts_format}", ts=repr(str(raw.iloc[i])),
                           column=label, more=int(huge.sum()) - 1, **table.where(i))
    return parsed


def _text(table: VendorTable, text: pd.Series, label: str, rules: TimeRules
          ) -> tuple[pd.DatetimeIndex, bool, str]:
    text = text.str.strip()
    offset = _has_offset(text)
    if offset.any() and not offset.all():
        i = int(np.argmax(offset != offset[0]))
        which = "has" if offset[i] else "has no"
        raise BarFileError(table.file, f"ts {which} a UTC offset, unlike the first row's: "
                                       "a file must be all naive or all with offsets",
                           ts=repr(str(text.iloc[i])), column=label, **table.where(i))
    fmt = rules.ts_format or "ISO8601"
    parsed = pd.to_datetime(text, format=fmt, errors="coerce", utc=bool(offset.all()))
    bad = parsed.isna().to_numpy()
    if bad.any():
        i = int(np.argmax(bad))
        value = str(text.iloc[i])
        message = ("ts is empty" if not value else
                   f"ts is not a timestamp in the layout {fmt}" if rules.ts_format else
                   "ts is not an ISO-8601 timestamp (e.g. 2024-01-02 09:30:00); "
                   "give other layouts with --ts-format")
        raise BarFileError(table.file, message, ts=repr(value), column=label,
                           more=int(bad.sum()) - 1, **table.where(i))
    how = "timestamps with UTC offsets" if offset.all() else "naive timestamps"
    return pd.DatetimeIndex(parsed), bool(offset.all()), how


def _has_offset(text: pd.Series) -> np.ndarray:
    """Which texts end in a UTC offset (arrow's regex engine: ~20x pandas' on a million rows)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    found = pc.match_substring_regex(pa.array(text, type=pa.string()), _OFFSET)
    return np.asarray(found.to_numpy(zero_copy_only=False), dtype=bool)


def _localize(table: VendorTable, naive: pd.DatetimeIndex, label: str, rules: TimeRules,
              how: str) -> Instants:
    tz = str(rules.tz)
    try:
        zoneinfo.ZoneInfo(tz)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ResearchError(f"--tz: unknown time zone {tz!r} (use an IANA name such as "
                            "America/New_York, America/Chicago or UTC)") from None
    n = len(naive)
    earlier = _ns(naive.tz_localize(tz, ambiguous=np.ones(n, dtype=bool), nonexistent="NaT"))
    later = _ns(naive.tz_localize(tz, ambiguous=np.zeros(n, dtype=bool), nonexistent="NaT"))
    missing = earlier == _NAT
    twice = (earlier != later) & ~missing

    def refuse(mask: np.ndarray, message: str) -> NoReturn:
        i = int(np.argmax(mask))
        local = naive[i].strftime("%Y-%m-%d %H:%M:%S")
        raise BarFileError(table.file, message.format(local=local), ts=repr(local), column=label,
                           more=int(mask.sum()) - 1, **table.where(i))

    if twice.any() and rules.ambiguous == "error":
        refuse(twice, f"local time {{local}} is ambiguous in {tz}: clocks go back and it happens "
                      "twice; say which with --ambiguous infer|earlier|later")
    if missing.any() and rules.nonexistent == "error":
        refuse(missing, f"local time {{local}} does not exist in {tz}: clocks go forward past it; "
                        "say what to do with --nonexistent shift-forward|drop")
    ambiguous: Any = {"earlier": np.ones(n, dtype=bool), "later": np.zeros(n, dtype=bool)}.get(
        rules.ambiguous, "infer" if rules.ambiguous == "infer" else "raise")
    nonexistent = "shift_forward" if rules.nonexistent == "shift-forward" else "NaT"
    try:
        localized = naive.tz_localize(tz, ambiguous=ambiguous, nonexistent=nonexistent)
    except ValueError as exc:  # "infer" found no way to order the repeated times
        refuse(twice, f"local time {{local}} is ambiguous in {tz} and its order does not say "
                      f"which it is ({exc}); say which with --ambiguous earlier|later")
    ts_ns = _ns(localized)
    kept = ts_ns != _NAT
    resolved = []
    if twice.any():
        resolved.append(f"{int(twice.sum())} ambiguous resolved by --ambiguous {rules.ambiguous}")
    if missing.any():
        verb = "shifted forward" if rules.nonexistent == "shift-forward" else "dropped"
        resolved.append(f"{int(missing.sum())} nonexistent {verb}")
    detail = f" ({', '.join(resolved)})" if resolved else ""
    return Instants(ts_ns, kept, f"{how} in {tz}{detail}")



def _ns(index: pd.DatetimeIndex) -> np.ndarray:
    """int64 ns since the epoch (UTC for zoned indexes); NaT as the int64 minimum."""
    return np.asarray(index.as_unit("ns").asi8, dtype=np.int64)
