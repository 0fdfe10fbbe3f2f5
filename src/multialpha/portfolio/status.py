"""A read-only picture of the coordinator for ``multialpha status``, health and alerts."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from multialpha.portfolio.book import DailyPnl, MarkedPosition, PnlBook
from multialpha.portfolio.limits import TradingState
from multialpha.portfolio.stats import Stats


@dataclass(frozen=True)
class PositionStatus:
    strategy: str
    symbol: str
    quantity: int  # signed: negative is short
    entry_price: float
    entry_time: datetime
    entry_day: date
    last_mark: float
    last_mark_time: datetime
    unrealized: float  # open-trade P&L since entry, before commission
    unrealized_today: float  # the part that belongs to the current trading day


@dataclass(frozen=True)
class ReservationStatus:
    strategy: str
    symbol: str
    reserved_at: datetime


@dataclass(frozen=True)
class PnlStatus:
    """Today's P&L of one scope against its daily stop (USD)."""

    realized: float
    unrealized: float
    total: float
    daily_stop_loss: float | None
    stop_headroom: float | None  # total + daily_stop_loss: how much more may be lost before the stop


@dataclass(frozen=True)
class ScopeStatus:
    """A strategy, or the account (``name == "account"``)."""

    name: str
    state: TradingState
    state_reason: str
    state_since: datetime | None
    flatten_requested: bool  # a flatten-halt on this scope
    stopped: bool  # this scope's own daily stop is hit
    stopped_at: datetime | None
    must_flatten: bool  # for a strategy: its own or the account's stop or flatten-halt
    pnl: PnlStatus
    open_positions: int
    reserved: int
    max_positions: int | None
    symbols: tuple[str, ...]  # allowed symbols; empty for the account
    stats_today: Stats
    stats_run: Stats


@dataclass(frozen=True)
class CoordinatorStatus:
    at: datetime
    trading_day: date
    account: ScopeStatus
    strategies: Mapping[str, ScopeStatus]
    positions: tuple[PositionStatus, ...]
    reservations: tuple[ReservationStatus, ...]

    @property
    def stats_today(self) -> Stats:
        return self.account.stats_today

    @property
    def stats_run(self) -> Stats:
        return self.account.stats_run

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form (dates and times as ISO text, enums as their values)."""
        result = _plain(self)
        assert isinstance(result, dict)
        return result


def position_status(ledger: PnlBook, pos: MarkedPosition) -> PositionStatus:
    return PositionStatus(
        pos.strategy, pos.symbol, pos.quantity, float(pos.entry_price), pos.entry_time, pos.entry_day,
        float(pos.last_mark), pos.last_mark_time, float(ledger.unrealized_since_entry(pos)),
        float(ledger.unrealized_today(pos)))


def pnl_status(daily: DailyPnl, stop_loss: Decimal | None) -> PnlStatus:
    return PnlStatus(float(daily.realized), float(daily.unrealized), float(daily.total),
                     None if stop_loss is None else float(stop_loss),
                     None if stop_loss is None else float(daily.total + stop_loss))


def _plain(value: Any) -> Any:
    if isinstance(value, Stats):
        return value.to_dict()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value
