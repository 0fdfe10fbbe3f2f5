"""The narrow interfaces an ``InstrumentStep`` is built with.

Live, research and the portfolio simulator pass different implementations of the same ports:
the coordinator or a permissive gate, the order router or a recording port, the state store's
ledger or an in-memory one, the live feature engines or research's.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Protocol

import numpy as np

from multialpha.domain import ClosedTrade, Decision, OrderIntent, OrderStatus, Position


class Gate(Protocol):
    """Entry permission, marks and the day's P&L: the portfolio coordinator's side of a step."""

    def can_open(self, strategy: str, symbol: str, now: datetime) -> Decision:
        """Ask for an entry; an allowed one holds a reservation until ``on_opened`` or ``release``."""
        ...

    def release(self, strategy: str, symbol: str) -> None: ...

    def on_opened(self, strategy: str, symbol: str, *, price: float, quantity: int, when: datetime) -> None: ...

    def mark(self, strategy: str, symbol: str, price: float, when: datetime) -> None: ...

    def on_closed(self, strategy: str, symbol: str, *, price: float, when: datetime, reason: str) -> float:
        """Book an exit (never refused); returns the trade's net P&L in USD."""
        ...

    def flatten_reason(self, strategy: str) -> str | None:
        """Why every position of ``strategy`` must close now (a daily stop, an operator's
        flatten-halt, a failed strategy), or None."""
        ...

    def void(self, strategy: str, symbol: str) -> None:
        """Forget an open position whose entry never reached the broker (no trade, no P&L)."""
        ...


class OrderPort(Protocol):
    def submit(self, intent: OrderIntent, *, arrival_ns: int | None = None) -> OrderStatus:
        """Hand an order over; the returned status is what is known of its delivery."""
        ...

    def committed(self, intent_id: str) -> None:
        """The transaction that handed ``intent_id`` over (with its fill) has committed."""
        ...


class Ledger(Protocol):
    """The position of record (fills are assumed at the signal)."""

    def opened(self, position: Position) -> None: ...
    def closed(self, trade: ClosedTrade) -> None: ...
    def voided(self, strategy: str, symbol: str) -> None:
        """Remove an open position whose entry never reached the broker."""
        ...
    def atomic(self) -> AbstractContextManager[object]:
        """Everything inside (the order's outbox row and the fill) commits together."""
        ...
    def open_positions(self, strategy: str) -> list[Position]: ...
    def last_exit_time(self, strategy: str, symbol: str) -> datetime | None: ...
    def evaluated(self, strategy: str, symbol: str, when: datetime) -> None:
        """This instrument is done with bar time ``when`` (recorded with the bar time's next fill)."""
        ...
    def evaluated_before_restart(self, strategy: str, symbol: str) -> datetime | None:
        """The unfinished bar time this instrument was already done with when the last process stopped."""
        ...


class MarketView(Protocol):
    """One symbol's feature engine and bar count, as of its last bar."""

    def row(self, names: Sequence[str]) -> np.ndarray:
        """Features ``names`` now (NaN where history is missing)."""
        ...

    def atr(self) -> float: ...

    def bars_since(self, when: datetime) -> int:
        """Bars of this symbol closed after ``when`` (to count a restored position's bars held)."""
        ...


class ModelFilter(Protocol):
    """The ML filter of one instrument: its feature names, its score and its threshold."""

    @property
    def features(self) -> tuple[str, ...]: ...
    def score(self, row: np.ndarray) -> float: ...
    def accepts(self, score: float) -> bool: ...
