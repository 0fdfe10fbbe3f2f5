"""Open positions and closed trades, as the strategy and the ledger see them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol


@dataclass
class OpenPosition:
    strategy: str
    symbol: str
    quantity: int
    entry_price: float
    entry_time: datetime
    entry_intent_id: str
    stop: float  # NaN when disabled
    target: float  # NaN when disabled
    atr: float
    ml_score: float | None
    bars_held: int = 0  # -1 after a restart: counted from the bar history on the next bar
    features: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class ClosedTrade:
    strategy: str
    symbol: str
    quantity: int
    entry_time: datetime
    entry_price: float
    exit_time: datetime
    exit_price: float
    pnl: float  # USD after round-trip commission
    exit_reason: str
    ml_score: float | None
    entry_intent_id: str
    exit_intent_id: str
    features: dict[str, float]


class Ledger(Protocol):
    """The position of record (fills are assumed at the signal)."""

    def opened(self, position: OpenPosition) -> None: ...
    def closed(self, trade: ClosedTrade) -> None: ...
    def open_positions(self, strategy: str) -> list[OpenPosition]: ...
    def last_exit_time(self, strategy: str, symbol: str) -> datetime | None: ...
    def trades(self) -> list[ClosedTrade]: ...
    def evaluated(self, strategy: str, symbol: str, when: datetime) -> None:
        """This instrument is done with bar time ``when`` (recorded with the bar's next fill)."""
        ...
    def evaluated_before_restart(self, strategy: str, symbol: str) -> datetime | None:
        """The unfinished bar time this instrument was already done with when the last process stopped."""
        ...
