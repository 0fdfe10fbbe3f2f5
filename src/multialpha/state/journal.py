"""The trade journal: one row per closed trade, never two for the same exit intent."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from multialpha.state.db import Repo
from multialpha.state.values import (
    check_int,
    check_name,
    check_quantity,
    check_score,
    check_strategy,
    check_text,
    day_text,
    decimal_text,
    dump_json,
    load_json,
    parse_day,
    parse_utc,
    utc_text,
)


@dataclass(frozen=True)
class Trade:
    strategy: str
    symbol: str
    quantity: int
    entry_time: datetime
    entry_price: Decimal
    exit_time: datetime
    exit_price: Decimal
    pnl_cents: int  # after commission
    exit_reason: str
    trading_day: date  # the exchange's trading day of the exit
    ml_score: float | None
    entry_intent_id: str
    exit_intent_id: str
    features: dict[str, Any] = field(default_factory=dict)
    recorded_at: datetime | None = None
    id: int | None = None

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Trade:
        return cls(
            strategy=row["strategy"],
            symbol=row["symbol"],
            quantity=row["quantity"],
            entry_time=parse_utc(row["entry_time"]),
            entry_price=Decimal(row["entry_price"]),
            exit_time=parse_utc(row["exit_time"]),
            exit_price=Decimal(row["exit_price"]),
            pnl_cents=row["pnl_cents"],
            exit_reason=row["exit_reason"],
            trading_day=parse_day(row["trading_day"]),
            ml_score=row["ml_score"],
            entry_intent_id=row["entry_intent_id"],
            exit_intent_id=row["exit_intent_id"],
            features=load_json(row["features"]),
            recorded_at=parse_utc(row["recorded_at"]),
            id=row["id"],
        )


class JournalRepo(Repo):
    """``store.journal``."""

    def record(self, *, strategy: str, symbol: str, quantity: int, entry_time: datetime,
               entry_price: Decimal | float | str, exit_time: datetime, exit_price: Decimal | float | str,
               pnl_cents: int, exit_reason: str, trading_day: date, entry_intent_id: str,
               exit_intent_id: str, ml_score: float | None = None,
               features: Mapping[str, Any] | None = None) -> bool:
        """Journal one closed trade; False (and no change) if ``exit_intent_id`` is journaled."""
        values = (
            check_strategy(strategy),
            check_name(symbol, field="symbol"),
            check_quantity(quantity),
            utc_text(entry_time, field="entry_time"),
            decimal_text(entry_price, field="entry_price"),
            utc_text(exit_time, field="exit_time"),
            decimal_text(exit_price, field="exit_price"),
            check_int(pnl_cents, field="pnl_cents"),
            check_text(exit_reason, field="exit_reason"),
            day_text(trading_day),
            check_score(ml_score),
            dump_json(dict(features or {}), field="features"),
            check_text(entry_intent_id, field="entry_intent_id"),
            check_text(exit_intent_id, field="exit_intent_id"),
        )
        with self._db.transaction() as conn:
            cursor = conn.execute(
                "INSERT INTO journal (strategy, symbol, quantity, entry_time, entry_price, exit_time,"
                " exit_price, pnl_cents, exit_reason, trading_day, ml_score, features, entry_intent_id,"
                " exit_intent_id, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (exit_intent_id) DO NOTHING",
                (*values, self._now()),
            )
            return cursor.rowcount == 1

    def get(self, exit_intent_id: str) -> Trade | None:
        row = self._db.query_one("SELECT * FROM journal WHERE exit_intent_id = ?", (exit_intent_id,))
        return None if row is None else Trade.from_row(row)

    def by_entry(self, entry_intent_id: str) -> Trade | None:
        """The trade an entry order opened, once it is closed."""
        row = self._db.query_one("SELECT * FROM journal WHERE entry_intent_id = ?", (entry_intent_id,))
        return None if row is None else Trade.from_row(row)

    def last_exit_time(self, strategy: str, symbol: str) -> datetime | None:
        """When this (strategy, symbol) last closed a trade; None if it never did."""
        row = self._db.query_one("SELECT MAX(exit_time) AS t FROM journal WHERE strategy = ? AND symbol = ?",
                                 (strategy, symbol))
        return None if row is None or row["t"] is None else parse_utc(row["t"])

    def total_cents(self, strategy: str) -> int:
        """Net P&L of every trade ``strategy`` ever closed, in cents."""
        row = self._db.query_one("SELECT COALESCE(SUM(pnl_cents), 0) AS t FROM journal WHERE strategy = ?",
                                 (strategy,))
        return 0 if row is None else int(row["t"])

    def all(self, strategy: str | None = None) -> list[Trade]:
        """Every journaled trade (of one strategy), in exit order."""
        if strategy is None:
            rows = self._db.query("SELECT * FROM journal ORDER BY exit_time, id")
        else:
            rows = self._db.query("SELECT * FROM journal WHERE strategy = ? ORDER BY exit_time, id", (strategy,))
        return [Trade.from_row(row) for row in rows]

    def for_day(self, trading_day: date, strategy: str | None = None) -> list[Trade]:
        """Trades whose exit belongs to the exchange trading day ``trading_day``."""
        day = day_text(trading_day)
        if strategy is None:
            rows = self._db.query("SELECT * FROM journal WHERE trading_day = ? ORDER BY exit_time, id", (day,))
        else:
            rows = self._db.query(
                "SELECT * FROM journal WHERE trading_day = ? AND strategy = ? ORDER BY exit_time, id",
                (day, strategy),
            )
        return [Trade.from_row(row) for row in rows]
