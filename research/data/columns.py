"""Which vendor column holds which bar field.

``--columns ts=Date,open=Open,high=High,low=Low,close=Close,volume=Volume`` names them;
``ts=Date+Time`` joins a date column and a time column. A field not named is found by its
header, ignoring case: ``open``/``o``, ``high``/``h``, ``low``/``l``, ``close``/``c``/
``last``, ``volume``/``vol``/``v``; the timestamp is ``ts``, ``timestamp``, ``datetime``,
``date_time`` or ``date time``, else a column with no name (the index column of the common
``,Open,High,Low,Close,Volume`` layout, or pandas' unnamed index in parquet), else ``date``
plus ``time`` when both exist, else ``date`` or ``time`` alone.
"""

from __future__ import annotations

from collections.abc import Mapping

from multialpha.research.data.vendor_file import UNNAMED_INDEX, VendorTable
from multialpha.research.errors import ResearchError

from multialpha.feeds.replay_files import BAR_COLUMNS, BarFileError

FIELDS = BAR_COLUMNS  # ts, open, high, low, close, volume
_ALIASES = {
    "open": ("open", "o"),
    "high": ("high", "h"),
    "low": ("low", "l"),
    "close": ("close", "c", "last"),
    "volume": ("volume", "vol", "v"),
}
_TS_NAMES = ("ts", "timestamp", "datetime", "date_time", "date time")


def parse_column_map(text: str | None) -> dict[str, tuple[str, ...]]:
    """``ts=Date+Time,open=Open,...`` as {field: vendor column names}; errors name the item."""
    mapping: dict[str, tuple[str, ...]] = {}
    if not text:
        return mapping
    for item in text.split(","):
        field, sep, names = item.partition("=")
        field = field.strip().lower()
        parts = tuple(n.strip() for n in names.split("+"))
        if not sep or not all(parts):
            raise ResearchError(f"--columns: {item.strip()!r} is not FIELD=COLUMN "
                                "(e.g. ts=Date,open=Open or ts=Date+Time)")
        if field not in FIELDS:
            raise ResearchError(f"--columns: unknown field {field!r} in {item.strip()!r}; "
                                f"fields are {', '.join(FIELDS)}")
        if field in mapping:
            raise ResearchError(f"--columns: field {field!r} is given twice")
        if len(parts) > (2 if field == "ts" else 1):
            raise ResearchError(f"--columns: {item.strip()!r}: only ts may join two columns "
                                "(ts=Date+Time)")
        mapping[field] = parts
    return mapping


def resolve_columns(table: VendorTable, given: Mapping[str, tuple[str, ...]]) -> dict[str, tuple[int, ...]]:
    """Column positions of every bar field in ``table``: the given names, else found by header."""
    found: dict[str, tuple[int, ...]] = {}
    for field in FIELDS:
        if field in given:
            found[field] = tuple(_by_name(table, field, name) for name in given[field])
        else:
            found[field] = _ts_columns(table) if field == "ts" else _by_alias(table, field)
    return found


def describe(table: VendorTable, columns: Mapping[str, tuple[int, ...]]) -> str:
    """The mapping for the report, e.g. ``ts=#1, open=Open, ...``."""
    return ", ".join(f"{f}={'+'.join(table.label(i) for i in idx)}" for f, idx in columns.items())


def _header_line(table: VendorTable) -> int | None:
    return 1 if table.is_csv else None


def _shown(table: VendorTable) -> list[str]:
    return [table.label(i) for i in range(len(table.header))]


def _by_name(table: VendorTable, field: str, name: str) -> int:
    hits = [i for i, h in enumerate(table.header) if h == name]
    if not hits:
        hits = [i for i, h in enumerate(table.header) if h.lower() == name.lower()]
    if not hits:
        raise BarFileError(table.file, f"no column {name!r} (given for {field} in --columns); "
                                       f"found {_shown(table)}", line=_header_line(table))
    if len(hits) > 1:
        raise BarFileError(table.file, f"more than one column is called {name!r} (given for {field} "
                                       f"in --columns): columns {[i + 1 for i in hits]}",
                           line=_header_line(table))
    return hits[0]


def _by_alias(table: VendorTable, field: str) -> tuple[int, ...]:
    hits = [i for i, h in enumerate(table.header) if h.lower() in _ALIASES[field]]
    return _one(table, field, hits)


def _ts_columns(table: VendorTable) -> tuple[int, ...]:
    lower = [h.lower() for h in table.header]
    for hits in ([i for i, h in enumerate(lower) if h in _TS_NAMES],
                 [i for i, h in enumerate(table.header) if h in ("", UNNAMED_INDEX)]):
        if hits:
            return _one(table, "ts", hits)
    dates = [i for i, h in enumerate(lower) if h == "date"]
    times = [i for i, h in enumerate(lower) if h == "time"]
    if len(dates) == 1 and len(times) == 1:
        return dates[0], times[0]
    return _one(table, "ts", dates or times)


def _one(table: VendorTable, field: str, hits: list[int]) -> tuple[int, ...]:
    if not hits:
        raise BarFileError(table.file, f"no column for {field}; found {_shown(table)}; "
                                       f"name it with --columns {field}=COLUMN", line=_header_line(table))
    if len(hits) > 1:
        raise BarFileError(table.file, f"more than one column could be {field}: "
                                       f"{[table.label(i) for i in hits]}; "
                                       f"name it with --columns {field}=COLUMN", line=_header_line(table))
    return (hits[0],)
