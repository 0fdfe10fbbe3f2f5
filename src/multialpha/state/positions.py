"""Open positions, one per (strategy, symbol): the daemon's ledger of record."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from multialpha.state.db import NotFound, PositionAlreadyOpen, Repo
from multialpha.state.values import (
    check_name,
    check_quantity,
    check_score,
    check_strategy,
    check_text,
    decimal_text,
    decimal_text_or_none,
    dump_json,
    load_json,
    parse_decimal_or_none,
    parse_utc,
    utc_text,
)


@dataclass(frozen=True)
class Position:
    strategy: str
    symbol: str
    quantity: int
    entry_time: datetime
    entry_price: Decimal
    signal_id: str  # the entry intent id
    entry_atr: Decimal | None
    ml_score: float | None
    extra: dict[str, Any] = field(default_factory=dict)
    opened_at: datetime | None = None  # when the store recorded it (wall clock)

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Position:
        return cls(
            strategy=row["strategy"],
            symbol=row["symbol"],
            quantity=row["quantity"],
            entry_time=parse_utc(row["entry_time"]),
            entry_price=Decimal(row["entry_price"]),
            signal_id=row["signal_id"],
            entry_atr=parse_decimal_or_none(row["entry_atr"]),
            ml_score=row["ml_score"],
            extra=load_json(row["extra"]),
            opened_at=parse_utc(row["opened_at"]),
        )


class PositionRepo(Repo):
    """``store.positions``."""

    def open(self, strategy: str, symbol: str, *, quantity: int, entry_time: datetime,
             entry_price: Decimal | float | str, signal_id: str,
             entry_atr: Decimal | float | str | None = None, ml_score: float | None = None,
             extra: Mapping[str, Any] | None = None) -> Position:
        """Record a new open position; raises ``PositionAlreadyOpen`` if one is open already."""
        values = (
            check_strategy(strategy),
            check_name(symbol, field="symbol"),
            check_quantity(quantity),
            utc_text(entry_time, field="entry_time"),
            decimal_text(entry_price, field="entry_price"),
            check_text(signal_id, field="signal_id"),
            decimal_text_or_none(entry_atr, field="entry_atr"),
            check_score(ml_score),
            dump_json(dict(extra or {}), field="extra"),
        )
        with self._db.transaction() as conn:
            existing = conn.execute(
                "SELECT signal_id FROM positions WHERE strategy = ? AND symbol = ?", (strategy, symbol)
            ).fetchone()
            if existing is not None:
                raise PositionAlreadyOpen(
                    f"{strategy} {symbol}: a position is already open (entry intent {existing[0]})"
                )
            now = self._now()
            conn.execute(
                "INSERT INTO positions (strategy, symbol, quantity, entry_time, entry_price, signal_id,"
                " entry_atr, ml_score, extra, opened_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (*values, now, now),
            )
            return self._get(conn, strategy, symbol)

    def close(self, strategy: str, symbol: str) -> Position:
        """Remove the open position and return it; raises ``NotFound`` if none is open."""
        with self._db.transaction() as conn:
            position = self._get(conn, strategy, symbol)
            conn.execute("DELETE FROM positions WHERE strategy = ? AND symbol = ?", (strategy, symbol))
            return position

    def update_extra(self, strategy: str, symbol: str, extra: Mapping[str, Any]) -> Position:
        """Replace the strategy's own per-position JSON (e.g. a trailing stop level)."""
        text = dump_json(dict(extra), field="extra")
        with self._db.transaction() as conn:
            self._get(conn, strategy, symbol)
            conn.execute(
                "UPDATE positions SET extra = ?, updated_at = ? WHERE strategy = ? AND symbol = ?",
                (text, self._now(), strategy, symbol),
            )
            return self._get(conn, strategy, symbol)

    def get(self, strategy: str, symbol: str) -> Position | None:
        row = self._db.query_one(
            "SELECT * FROM positions WHERE strategy = ? AND symbol = ?", (strategy, symbol)
        )
        return None if row is None else Position.from_row(row)

    def all(self, strategy: str | None = None) -> list[Position]:
        if strategy is None:
            rows = self._db.query("SELECT * FROM positions ORDER BY strategy, symbol")
        else:
            rows = self._db.query("SELECT * FROM positions WHERE strategy = ? ORDER BY symbol", (strategy,))
        return [Position.from_row(row) for row in rows]

    @staticmethod
    def _get(conn: sqlite3.Connection, strategy: str, symbol: str) -> Position:
        row = conn.execute(
            "SELECT * FROM positions WHERE strategy = ? AND symbol = ?", (strategy, symbol)
        ).fetchone()
        if row is None:
            raise NotFound(f"{strategy} {symbol}: no open position")
        return Position.from_row(row)
