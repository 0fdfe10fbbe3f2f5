"""Per trading day and scope (a strategy or the account): realized P&L, daily stop, stats.

Days are the exchange's trading days, computed by the caller; the store never derives a day
from a timestamp. Also holds named JSON snapshots (the coordinator's full state).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from multialpha.state.db import NotFound, Repo
from multialpha.state.values import (
    check_int,
    check_text,
    day_text,
    dump_json,
    load_json,
    parse_day,
    parse_utc,
    parse_utc_or_none,
    utc_text,
)


@dataclass(frozen=True)
class DayRecord:
    trading_day: date
    scope: str
    realized_cents: int
    stopped: bool
    stopped_at: datetime | None
    stats: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> DayRecord:
        return cls(
            trading_day=parse_day(row["trading_day"]),
            scope=row["scope"],
            realized_cents=row["realized_cents"],
            stopped=bool(row["stopped"]),
            stopped_at=parse_utc_or_none(row["stopped_at"]),
            stats=load_json(row["stats"]),
        )


@dataclass(frozen=True)
class Snapshot:
    name: str
    trading_day: date
    data: Any  # the parsed JSON the owner saved
    saved_at: datetime


class DailyRepo(Repo):
    """``store.daily``."""

    def get(self, trading_day: date, scope: str) -> DayRecord | None:
        row = self._db.query_one(
            "SELECT * FROM daily WHERE trading_day = ? AND scope = ?", (day_text(trading_day), scope)
        )
        return None if row is None else DayRecord.from_row(row)

    def for_day(self, trading_day: date) -> list[DayRecord]:
        rows = self._db.query("SELECT * FROM daily WHERE trading_day = ? ORDER BY scope", (day_text(trading_day),))
        return [DayRecord.from_row(row) for row in rows]

    def add_realized(self, trading_day: date, scope: str, cents: int) -> int:
        """Add realized P&L (integer cents) to the day's total; returns the new total."""
        day, who, amount = day_text(trading_day), check_text(scope, field="scope"), check_int(cents, field="cents")
        return self._update(day, who, "realized_cents = realized_cents + ?", (amount,)).realized_cents

    def mark_stopped(self, trading_day: date, scope: str, at: datetime) -> DayRecord:
        """Set the daily-stop flag; the first trigger time is kept if already stopped."""
        day, who, when = day_text(trading_day), check_text(scope, field="scope"), utc_text(at, field="at")
        return self._update(day, who, "stopped = 1, stopped_at = coalesce(stopped_at, ?)", (when,))

    def clear_stopped(self, trading_day: date, scope: str) -> DayRecord:
        day = day_text(trading_day)
        with self._db.transaction() as conn:
            self._get(conn, day, scope)
            conn.execute(
                "UPDATE daily SET stopped = 0, stopped_at = NULL, updated_at = ? WHERE trading_day = ? AND scope = ?",
                (self._now(), day, scope),
            )
            return self._get(conn, day, scope)

    def set_stats(self, trading_day: date, scope: str, stats: Mapping[str, Any]) -> DayRecord:
        """Replace the scope's stats JSON for the day."""
        day, who = day_text(trading_day), check_text(scope, field="scope")
        text = dump_json(dict(stats), field=f"daily {who} stats")
        return self._update(day, who, "stats = ?", (text,))

    def save_snapshot(self, name: str, trading_day: date, data: Mapping[str, Any] | str) -> None:
        """Replace the named snapshot; ``data`` is a JSON-able mapping or JSON text."""
        key = check_text(name, field="snapshot name")
        parsed = json.loads(data) if isinstance(data, str) else data
        text = dump_json(parsed, field=f"snapshot {key}")
        with self._db.transaction() as conn:
            conn.execute(
                "INSERT INTO snapshots (name, trading_day, data, saved_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (name) DO UPDATE SET trading_day = excluded.trading_day,"
                " data = excluded.data, saved_at = excluded.saved_at",
                (key, day_text(trading_day), text, self._now()),
            )

    def load_snapshot(self, name: str) -> Snapshot | None:
        row = self._db.query_one("SELECT * FROM snapshots WHERE name = ?", (name,))
        if row is None:
            return None
        return Snapshot(name=row["name"], trading_day=parse_day(row["trading_day"]),
                        data=load_json(row["data"]), saved_at=parse_utc(row["saved_at"]))

    def _update(self, day: str, scope: str, assignments: str, params: tuple[Any, ...]) -> DayRecord:
        """Create the (day, scope) row if needed, apply ``assignments`` (SQL with ``?`` for
        ``params``) and return the row, in one transaction."""
        with self._db.transaction() as conn:
            self._ensure(conn, day, scope)
            conn.execute(f"UPDATE daily SET {assignments}, updated_at = ? WHERE trading_day = ? AND scope = ?",
                         (*params, self._now(), day, scope))
            return self._get(conn, day, scope)

    def _ensure(self, conn: sqlite3.Connection, day: str, scope: str) -> None:
        conn.execute(
            "INSERT INTO daily (trading_day, scope, updated_at) VALUES (?, ?, ?)"
            " ON CONFLICT (trading_day, scope) DO NOTHING",
            (day, scope, self._now()),
        )

    @staticmethod
    def _get(conn: sqlite3.Connection, day: str, scope: str) -> DayRecord:
        row = conn.execute("SELECT * FROM daily WHERE trading_day = ? AND scope = ?", (day, scope)).fetchone()
        if row is None:
            raise NotFound(f"daily {scope} {day}: no record")
        return DayRecord.from_row(row)
