"""A vendor's bar file as read, before any meaning is given to its columns.

CSV is read as text (every field a string, the header as written, an empty header cell
kept empty) so that a bad value can be quoted and located: CSV lines count from 1 with the
header as line 1. Parquet keeps its column types; rows count from 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from multialpha.feeds.replay_files import BarFileError, read_csv_refusing

FORMATS = (".csv", ".parquet")
# The name pandas gives an unnamed index when it writes parquet.
UNNAMED_INDEX = "__index_level_0__"


@dataclass(frozen=True)
class VendorTable:
    """Columns of a vendor file, in file order."""

    file: Path
    header: tuple[str, ...]  # names as written; "" for an empty header cell
    columns: tuple[pd.Series, ...]  # text for CSV, the stored types for parquet
    is_csv: bool

    def __len__(self) -> int:
        return len(self.columns[0]) if self.columns else 0

    def where(self, i: int) -> dict[str, int]:
        """Where data row ``i`` is, as BarFileError takes it: its CSV line or parquet row."""
        return {"line": i + 2} if self.is_csv else {"row": i}

    def label(self, index: int) -> str:
        """How messages name a column: its header; ``#<position>`` for an empty header cell;
        ``index`` for pandas' unnamed index in parquet."""
        name = self.header[index]
        return f"#{index + 1}" if name == "" else "index" if name == UNNAMED_INDEX else name

    def raw(self, index: int, i: int) -> str:
        """A value as the file holds it, as text."""
        value = self.columns[index].iloc[i]
        return value if isinstance(value, str) else str(value)

    def text(self, index: int, i: int) -> str:
        """A value as the file holds it, quoted for a message."""
        return repr(self.raw(index, i))

    def ts_text(self, columns: tuple[int, ...], i: int) -> str:
        """Row ``i``'s timestamp as the file holds it (date and time joined), quoted."""
        return repr(" ".join(self.raw(c, i) for c in columns))


def read_vendor_file(path: str | Path) -> VendorTable:
    """Read a CSV or parquet file (by suffix) without interpreting its columns."""
    file = Path(path)
    if file.suffix.lower() not in FORMATS:
        raise BarFileError(file, f"unknown input type {file.suffix!r}; expected one of {FORMATS}")
    if not file.is_file():
        raise BarFileError(file, "input file not found")
    return _read_csv(file) if file.suffix.lower() == ".csv" else _read_parquet(file)


def _read_csv(file: Path) -> VendorTable:
    frame = read_csv_refusing(file, empty="no header, no rows", header=None, dtype=str)
    header = tuple(str(v).strip() for v in frame.iloc[0])
    body = frame.iloc[1:].reset_index(drop=True)
    blank = (body == "").all(axis=1).to_numpy()
    # A file may end with blank lines; a blank line between rows is an error.
    keep = len(body) - int(np.argmin(blank[::-1])) if not blank.all() else 0
    body, blank = body.iloc[:keep], blank[:keep]
    if blank.any():
        raise BarFileError(file, "blank line between rows", line=int(np.argmax(blank)) + 2)
    if keep == 0:
        raise BarFileError(file, "no rows after the header", line=1)
    columns = tuple(body[c].str.strip() for c in body.columns)
    return VendorTable(file, header, columns, is_csv=True)


def _read_parquet(file: Path) -> VendorTable:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(file)
    except (pa.ArrowInvalid, OSError) as exc:
        raise BarFileError(file, f"not a readable parquet file: {exc}") from None
    if table.num_rows == 0:
        raise BarFileError(file, "no rows")
    columns = tuple(table.column(i).to_pandas() for i in range(table.num_columns))
    return VendorTable(file, tuple(table.column_names), columns, is_csv=False)
