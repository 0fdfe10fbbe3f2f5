"""What an import did, in a few lines a person reads once."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ImportReport:
    source: Path
    output: Path
    symbol: str
    rows_in: int  # data rows in the input file
    bars_out: int  # hourly bars written
    first_bar: str  # ISO UTC start of the first hourly bar
    last_bar: str
    columns: str  # field=vendor column, ...
    times: str  # how the timestamps were read
    input_bar: str  # e.g. "1m (detected: most common spacing)"
    aggregated: bool  # finer bars were combined into hours
    ticks: str  # what was done about the tick grid
    dropped: tuple[str, ...]  # each dropped hour or row group and why

    def lines(self) -> list[str]:
        shape = "aggregated into hourly bars" if self.aggregated else "already hourly"
        out = [
            f"read    {self.source}: {self.rows_in:,} rows (columns {self.columns})",
            f"time    {self.times}",
            f"bars    input {self.input_bar}, {shape}",
            f"ticks   {self.ticks}",
            f"wrote   {self.output}: {self.bars_out:,} hourly bars of {self.symbol}, "
            f"{self.first_bar} .. {self.last_bar} (read back and checked)",
        ]
        if not self.dropped:
            out.append("dropped nothing")
        else:
            out.append("dropped:")
            out.extend(f"  {d}" for d in self.dropped)
        return out
