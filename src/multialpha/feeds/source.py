"""The ``BarSource`` protocol: where the daemon's bars come from.

One source per process. It yields complete bar groups (every symbol's bar of one bar time) in
strictly increasing time order: first the warm-up groups (``historical=True``: they build
history and features, and never produce an order), then the groups orders may act on. The
runner's hub loop is the only consumer; it never needs to know which implementation it drives.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from multialpha.domain import BarGroup


@dataclass(frozen=True)
class FeedStatus:
    """What ``/health`` and ``status`` show about a source."""

    live: bool  # a market feed (paper/live), not files
    connected: bool
    last_bar_time: datetime | None  # close time of the last group yielded
    detail: str = ""
    # Seconds since the market feed last sent anything (data, mapping or heartbeat); None
    # for files or before the feed started. ``stale`` when that exceeds the feed's limit:
    # the runner alerts on it and fails its health check.
    silence_secs: float | None = None
    stale: bool = False


class BarSource(Protocol):
    @property
    def symbols(self) -> list[str]:
        """Every symbol the source delivers (traded and reference)."""
        ...

    @property
    def is_live(self) -> bool:
        """True for a live market feed; replay files are not."""
        ...

    @property
    def first_live_time(self) -> datetime | None:
        """Close time of the first group that may produce orders, when known in advance."""
        ...

    def groups(self) -> Iterator[BarGroup]:
        """Complete bar groups, oldest first, warm-up first; ends when the source is exhausted
        or closed."""
        ...

    def status(self) -> FeedStatus: ...

    def close(self) -> None:
        """Stop delivering (a blocked ``groups`` iteration ends promptly); idempotent."""
        ...
