"""The coordinator's P&L book: open positions marked to market and the trading day's P&L, in
exact decimal arithmetic (the position of record is the state store's; this is the P&L view).

P&L rules (all USD, from the contract spec):

* opening books the entry-side commission to the day the position opens;
* a position's P&L for today is ``(mark - reference) * point_value * quantity``, where the
  reference is the entry price, or, once the position has been carried over a trading-day
  roll, its last mark before that roll;
* closing realizes ``(exit - reference) * point_value * quantity`` minus the exit-side
  commission into today, and the trade's net P&L is ``ContractSpec.net_pnl`` exactly.

So each day holds only that day's change, and the days of one trade add up to its net P&L.
Quantities are signed: positive long, negative short; commission is per contract.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from multialpha.contracts import ContractSpec, require
from multialpha.portfolio._values import ZERO, parse_utc, to_decimal
from multialpha.portfolio.errors import PortfolioError

Key = tuple[str, str]  # (strategy, symbol)


@dataclass
class MarkedPosition:
    strategy: str
    symbol: str
    quantity: int
    entry_price: Decimal
    entry_time: datetime
    entry_day: date
    reference_price: Decimal  # entry price, or the last mark before the latest day roll
    last_mark: Decimal
    last_mark_time: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "strategy": self.strategy,
            "symbol": self.symbol,
            "quantity": self.quantity,
            "entry_price": str(self.entry_price),
            "entry_time": self.entry_time.isoformat(),
            "entry_day": self.entry_day.isoformat(),
            "reference_price": str(self.reference_price),
            "last_mark": str(self.last_mark),
            "last_mark_time": self.last_mark_time.isoformat(),
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> MarkedPosition:
        return cls(
            strategy=str(raw["strategy"]),
            symbol=str(raw["symbol"]),
            quantity=check_quantity(raw["quantity"]),
            entry_price=to_decimal(raw["entry_price"], name="entry_price"),
            entry_time=parse_utc(raw["entry_time"]),
            entry_day=date.fromisoformat(raw["entry_day"]),
            reference_price=to_decimal(raw["reference_price"], name="reference_price"),
            last_mark=to_decimal(raw["last_mark"], name="last_mark"),
            last_mark_time=parse_utc(raw["last_mark_time"]),
        )


@dataclass(frozen=True)
class Realized:
    position: MarkedPosition
    exit_price: Decimal
    net_pnl: Decimal  # the whole trade, after round-trip commission
    today_pnl: Decimal  # the part booked to today's realized P&L


@dataclass(frozen=True)
class DailyPnl:
    realized: Decimal
    unrealized: Decimal

    @property
    def total(self) -> Decimal:
        return self.realized + self.unrealized


def check_quantity(quantity: Any) -> int:
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity == 0:
        raise ValueError(f"quantity must be a non-zero integer (negative for short), got {quantity!r}")
    return quantity


class PnlBook:
    """Positions keyed by (strategy, symbol) and each strategy's realized P&L for today."""

    def __init__(self, contracts: Mapping[str, ContractSpec], strategies: Iterable[str]) -> None:
        self._contracts = contracts
        self._positions: dict[Key, MarkedPosition] = {}
        self._realized: dict[str, Decimal] = {name: ZERO for name in strategies}
        self._retired = ZERO  # today's realized P&L of strategies no longer configured (account only)
        self._specs: dict[str, tuple[Decimal, Decimal]] = {}  # symbol -> (point value, commission/side)

    # -- contract arithmetic ------------------------------------------------------------------
    def _spec(self, symbol: str) -> tuple[Decimal, Decimal]:
        cached = self._specs.get(symbol)
        if cached is None:
            spec = require(self._contracts, symbol)
            cached = (to_decimal(spec.point_value, name=f"{symbol}.point_value"),
                      to_decimal(spec.commission_per_side, name=f"{symbol}.commission_per_side"))
            self._specs[symbol] = cached
        return cached

    def _point_value(self, symbol: str) -> Decimal:
        return self._spec(symbol)[0]

    def _commission(self, symbol: str, quantity: int) -> Decimal:
        return self._spec(symbol)[1] * abs(quantity)

    def _move(self, pos: MarkedPosition, start: Decimal, end: Decimal) -> Decimal:
        return (end - start) * self._point_value(pos.symbol) * pos.quantity

    def unrealized_today(self, pos: MarkedPosition) -> Decimal:
        return self._move(pos, pos.reference_price, pos.last_mark)

    def unrealized_since_entry(self, pos: MarkedPosition) -> Decimal:
        """Open-trade P&L before commission."""
        return self._move(pos, pos.entry_price, pos.last_mark)

    # -- positions ----------------------------------------------------------------------------
    def get(self, strategy: str, symbol: str) -> MarkedPosition | None:
        return self._positions.get((strategy, symbol))

    def _require(self, strategy: str, symbol: str) -> MarkedPosition:
        pos = self._positions.get((strategy, symbol))
        if pos is None:
            raise PortfolioError(f"strategy {strategy}: no open position in {symbol}")
        return pos

    def positions(self) -> list[MarkedPosition]:
        return [self._positions[k] for k in sorted(self._positions)]

    def count(self, strategy: str | None = None) -> int:
        if strategy is None:
            return len(self._positions)
        return sum(1 for s, _ in self._positions if s == strategy)

    def open(self, strategy: str, symbol: str, *, price: Decimal, quantity: int,
             when: datetime, day: date) -> MarkedPosition:
        if (strategy, symbol) in self._positions:
            raise PortfolioError(f"strategy {strategy}: a position in {symbol} is already open")
        check_quantity(quantity)
        commission = self._commission(symbol, quantity)  # also fails early on an unknown symbol
        pos = MarkedPosition(strategy, symbol, quantity, price, when, day, price, price, when)
        self._positions[(strategy, symbol)] = pos
        self._realized[strategy] -= commission
        return pos

    def mark(self, strategy: str, symbol: str, *, price: Decimal, when: datetime) -> MarkedPosition:
        """Record a price; a mark older than the last one is stale and ignored."""
        pos = self._require(strategy, symbol)
        if when >= pos.last_mark_time:
            pos.last_mark = price
            pos.last_mark_time = when
        return pos

    def close(self, strategy: str, symbol: str, *, price: Decimal) -> Realized:
        pos = self._require(strategy, symbol)
        commission = self._commission(symbol, pos.quantity)
        today = self._move(pos, pos.reference_price, price) - commission
        net = self._move(pos, pos.entry_price, price) - 2 * commission
        del self._positions[(strategy, symbol)]
        self._realized[strategy] += today
        return Realized(pos, price, net, today)

    def void(self, strategy: str, symbol: str, *, today: date) -> MarkedPosition:
        """Remove a position that never existed at the broker: no trade; the entry commission is
        refunded when it was booked today (an earlier day's books stay as they closed)."""
        pos = self._require(strategy, symbol)
        del self._positions[(strategy, symbol)]
        if pos.entry_day == today:
            self._realized[strategy] += self._commission(symbol, pos.quantity)
        return pos

    # -- daily P&L ----------------------------------------------------------------------------
    def daily(self, strategy: str) -> DailyPnl:
        unrealized = sum((self.unrealized_today(p) for (s, _), p in self._positions.items()
                          if s == strategy), ZERO)
        return DailyPnl(self._realized[strategy], unrealized)

    def account_daily(self) -> DailyPnl:
        realized = sum(self._realized.values(), self._retired)
        unrealized = sum((self.unrealized_today(p) for p in self._positions.values()), ZERO)
        return DailyPnl(realized, unrealized)

    def roll(self) -> None:
        """Start a new trading day: realized resets, carried positions re-reference to their last mark."""
        for name in self._realized:
            self._realized[name] = ZERO
        self._retired = ZERO
        for pos in self._positions.values():
            pos.reference_price = pos.last_mark

    # -- persistence --------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "positions": [p.to_dict() for p in self.positions()],
            "realized_today": {name: str(v) for name, v in sorted(self._realized.items())},
            "retired_realized_today": str(self._retired),
        }

    def load(self, raw: Mapping[str, Any]) -> None:
        """Replace everything with a ``to_dict`` result; strategies must be the configured ones."""
        positions = [MarkedPosition.from_dict(p) for p in raw["positions"]]
        realized = {str(k): to_decimal(v, name=f"realized_today.{k}")
                    for k, v in raw["realized_today"].items()}
        unknown = sorted({p.strategy for p in positions} - set(self._realized))
        if unknown:
            raise PortfolioError(f"saved state holds positions of strategies that are not configured: {unknown}")
        retired = to_decimal(raw.get("retired_realized_today", "0"), name="retired_realized_today")
        retired += sum((v for k, v in realized.items() if k not in self._realized), ZERO)
        for p in positions:
            require(self._contracts, p.symbol)
        by_key = {(p.strategy, p.symbol): p for p in positions}
        if len(by_key) != len(positions):
            raise ValueError("saved state has two positions for the same (strategy, symbol)")
        self._positions = by_key
        self._realized = {name: realized.get(name, ZERO) for name in self._realized}
        self._retired = retired
