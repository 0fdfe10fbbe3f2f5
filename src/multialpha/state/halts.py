"""Trading state per scope (a strategy or the account), and its append-only history.

This table is how an operator's ``halt``/``resume`` command reaches a running daemon: the
command writes from its own process and the daemon polls ``get``/``all``. Both are single
indexed reads, and WAL lets them run while the other process writes.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType

from multialpha.domain import ensure_transition
from multialpha.errors import IllegalTransition
from multialpha.state.db import NotFound, Repo
from multialpha.state.values import check_text, parse_utc, redact


class TradingState(StrEnum):
    ACTIVE = "active"  # entries and exits
    REDUCING = "reducing"  # exits only
    HALTED = "halted"  # no entries; exits still go out


# Every legal move; staying in the same state is not a move and is refused.
TRADING_STATE_TRANSITIONS: Mapping[TradingState, frozenset[TradingState]] = MappingProxyType({
    TradingState.ACTIVE: frozenset({TradingState.REDUCING, TradingState.HALTED}),
    TradingState.REDUCING: frozenset({TradingState.ACTIVE, TradingState.HALTED}),
    TradingState.HALTED: frozenset({TradingState.ACTIVE, TradingState.REDUCING}),
})


class HaltEvent(StrEnum):
    SET = "set"
    FLATTEN_REQUESTED = "flatten_requested"
    FLATTEN_CLEARED = "flatten_cleared"


@dataclass(frozen=True)
class HaltRecord:
    scope: str
    state: TradingState
    reason: str
    since: datetime
    set_by: str
    flatten_requested: bool

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> HaltRecord:
        return cls(scope=row["scope"], state=TradingState(row["state"]), reason=row["reason"],
                   since=parse_utc(row["since"]), set_by=row["set_by"],
                   flatten_requested=bool(row["flatten_requested"]))


@dataclass(frozen=True)
class HaltChange:
    id: int
    scope: str
    event: HaltEvent
    from_state: TradingState | None  # None: the scope had never been set (it was ACTIVE)
    to_state: TradingState
    reason: str
    set_by: str
    flatten_requested: bool
    at: datetime

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> HaltChange:
        return cls(id=row["id"], scope=row["scope"], event=HaltEvent(row["event"]),
                   from_state=None if row["from_state"] is None else TradingState(row["from_state"]),
                   to_state=TradingState(row["to_state"]), reason=row["reason"], set_by=row["set_by"],
                   flatten_requested=bool(row["flatten_requested"]), at=parse_utc(row["at"]))


class HaltRepo(Repo):
    """``store.halts``. A scope never set is ACTIVE."""

    def set(self, scope: str, state: TradingState, reason: str, by: str, flatten: bool = False) -> HaltRecord:
        """Move ``scope`` to ``state``; ``flatten`` asks for open positions to be closed."""
        who, new = check_text(scope, field="scope"), TradingState(state)
        why, setter = redact(check_text(reason, field="reason")), check_text(by, field="by")
        if flatten and new is TradingState.ACTIVE:
            raise ValueError(f"halt {who}: flatten needs state reducing or halted, not active")
        with self._db.transaction() as conn:
            current = self._get(conn, who)
            old = TradingState.ACTIVE if current is None else current.state
            ensure_transition(TRADING_STATE_TRANSITIONS, old, new, what=f"halt {who}")
            now = self._now()
            conn.execute(
                "INSERT INTO halts (scope, state, reason, since, set_by, flatten_requested, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (scope) DO UPDATE SET state = excluded.state,"
                " reason = excluded.reason, since = excluded.since, set_by = excluded.set_by,"
                " flatten_requested = excluded.flatten_requested, updated_at = excluded.updated_at",
                (who, new.value, why, now, setter, int(flatten), now),
            )
            self._log(conn, who, HaltEvent.SET, None if current is None else old, new, why, setter, flatten, now)
            return self._require(conn, who)

    def request_flatten(self, scope: str, reason: str, by: str) -> HaltRecord:
        """Ask for positions to be closed without changing the state (which must not be ACTIVE)."""
        return self._set_flatten(scope, True, reason, by)

    def clear_flatten(self, scope: str, reason: str, by: str) -> HaltRecord:
        """The daemon acknowledges that the flatten it was asked for is done."""
        return self._set_flatten(scope, False, reason, by)

    def get(self, scope: str) -> HaltRecord | None:
        row = self._db.query_one("SELECT * FROM halts WHERE scope = ?", (scope,))
        return None if row is None else HaltRecord.from_row(row)

    def state(self, scope: str) -> TradingState:
        record = self.get(scope)
        return TradingState.ACTIVE if record is None else record.state

    def all(self) -> list[HaltRecord]:
        return [HaltRecord.from_row(row) for row in self._db.query("SELECT * FROM halts ORDER BY scope")]

    def history(self, scope: str | None = None) -> list[HaltChange]:
        if scope is None:
            rows = self._db.query("SELECT * FROM halt_history ORDER BY id")
        else:
            rows = self._db.query("SELECT * FROM halt_history WHERE scope = ? ORDER BY id", (scope,))
        return [HaltChange.from_row(row) for row in rows]

    def _set_flatten(self, scope: str, flatten: bool, reason: str, by: str) -> HaltRecord:
        why, setter = redact(check_text(reason, field="reason")), check_text(by, field="by")
        with self._db.transaction() as conn:
            current = self._get(conn, scope)
            if current is None or current.state is TradingState.ACTIVE:
                raise IllegalTransition(f"halt {scope}: flatten needs state reducing or halted, not active")
            now = self._now()
            conn.execute("UPDATE halts SET flatten_requested = ?, updated_at = ? WHERE scope = ?",
                         (int(flatten), now, scope))
            event = HaltEvent.FLATTEN_REQUESTED if flatten else HaltEvent.FLATTEN_CLEARED
            self._log(conn, scope, event, current.state, current.state, why, setter, flatten, now)
            return self._require(conn, scope)

    @staticmethod
    def _log(conn: sqlite3.Connection, scope: str, event: HaltEvent, old: TradingState | None,
             new: TradingState, reason: str | None, by: str, flatten: bool, at: str) -> None:
        conn.execute(
            "INSERT INTO halt_history (scope, event, from_state, to_state, reason, set_by,"
            " flatten_requested, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (scope, event.value, None if old is None else old.value, new.value, reason, by, int(flatten), at),
        )

    @staticmethod
    def _get(conn: sqlite3.Connection, scope: str) -> HaltRecord | None:
        row = conn.execute("SELECT * FROM halts WHERE scope = ?", (scope,)).fetchone()
        return None if row is None else HaltRecord.from_row(row)

    def _require(self, conn: sqlite3.Connection, scope: str) -> HaltRecord:
        record = self._get(conn, scope)
        if record is None:
            raise NotFound(f"halt {scope}: no record")
        return record
