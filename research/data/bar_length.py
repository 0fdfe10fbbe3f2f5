"""How long the input bars are: given (``1m``, ``5m``, ``1h``...) or read from the spacing.

Hourly bar files are built from hourly or finer bars whose length divides an hour, so
that no input bar straddles two hours.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from multialpha.research.errors import ResearchError

NS_PER_SECOND = 1_000_000_000
HOUR_SECONDS = 3600
_UNITS = {"s": 1, "m": 60, "h": 3600}


@dataclass(frozen=True)
class BarLength:
    seconds: int
    detected: bool  # read from the most common spacing rather than given

    @property
    def ns(self) -> int:
        return self.seconds * NS_PER_SECOND

    def __str__(self) -> str:
        return describe_seconds(self.seconds)


def describe_seconds(seconds: int) -> str:
    """``3600`` -> ``1h``, ``60`` -> ``1m``, ``86400`` -> ``24h``, ``90`` -> ``90s``."""
    for unit, size in (("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def parse_bar_length(text: str) -> BarLength:
    """``--input-bar``: a number and s, m or h; must divide an hour."""
    found = re.fullmatch(r"\s*(\d+)\s*([smh])\s*", text.lower())
    if not found or int(found.group(1)) == 0:
        raise ResearchError(f"--input-bar: {text!r} is not a bar length such as 1m, 5m, 15m or 1h")
    seconds = int(found.group(1)) * _UNITS[found.group(2)]
    if seconds > HOUR_SECONDS or HOUR_SECONDS % seconds:
        raise ResearchError(f"--input-bar {text}: hourly bars are built from bars whose length "
                            "divides an hour (1m, 2m, 5m, 10m, 15m, 30m, 1h, ...)")
    return BarLength(seconds, detected=False)


def detect_bar_length(ts_ns: np.ndarray, source: str) -> BarLength:
    """The most common spacing between consecutive rows, which must divide an hour."""
    steps = np.diff(np.asarray(ts_ns, dtype=np.int64))
    steps = steps[steps > 0]
    if steps.shape[0] == 0:
        raise ResearchError(f"{source}: too few distinct rows to tell how long the bars are; "
                            "give it with --input-bar (e.g. 1m or 1h)")
    values, counts = np.unique(steps, return_counts=True)
    step_ns = int(values[np.argmax(counts)])
    seconds, rest = divmod(step_ns, NS_PER_SECOND)
    if rest == 0 and seconds > HOUR_SECONDS:
        raise ResearchError(f"{source}: rows are mostly {describe_seconds(seconds)} apart: hourly bar "
                            "files are built from hourly or finer bars")
    if rest or HOUR_SECONDS % seconds:
        raise ResearchError(f"{source}: rows are mostly {step_ns / NS_PER_SECOND:g}s apart, which does "
                            "not divide an hour; give the bar length with --input-bar")
    return BarLength(seconds, detected=True)
