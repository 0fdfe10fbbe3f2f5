"""Order intents, committed before the webhook POST so that none is lost or sent twice.

The intent id is deterministic (strategy, symbol, signal bar, action), and ``add`` keeps the
first row for an id: a restarted or replayed worker cannot create a second order for a signal.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from multialpha.domain import ORDER_TRANSITIONS, Action, OrderStatus, ensure_transition
from multialpha.errors import IllegalTransition
from multialpha.state.db import NotFound, Repo
from multialpha.state.values import (
    check_int,
    check_name,
    check_quantity,
    check_strategy,
    check_text,
    decimal_text,
    dump_json,
    load_json,
    parse_utc,
    redact,
    utc_text,
)

OPERATOR_ONLY: frozenset[OrderStatus] = frozenset({OrderStatus.UNKNOWN})


@dataclass(frozen=True)
class OutboxIntent:
    """A new outbox row as the router builds it. ``payload`` must not hold the webhook URL."""

    intent_id: str
    strategy: str
    symbol: str
    action: Action
    quantity: int
    price: Decimal | float | str
    signal_time: datetime
    payload: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class OutboxRecord:
    intent_id: str
    strategy: str
    symbol: str
    action: Action
    quantity: int
    price: Decimal
    signal_time: datetime
    payload: dict[str, Any]
    status: OrderStatus
    attempts: int
    http_status: int | None
    detail: str | None
    created_at: datetime
    updated_at: datetime
    resolved_by: str | None

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> OutboxRecord:
        return cls(
            intent_id=row["intent_id"],
            strategy=row["strategy"],
            symbol=row["symbol"],
            action=Action(row["action"]),
            quantity=row["quantity"],
            price=Decimal(row["price"]),
            signal_time=parse_utc(row["signal_time"]),
            payload=load_json(row["payload"]),
            status=OrderStatus(row["status"]),
            attempts=row["attempts"],
            http_status=row["http_status"],
            detail=row["detail"],
            created_at=parse_utc(row["created_at"]),
            updated_at=parse_utc(row["updated_at"]),
            resolved_by=row["resolved_by"],
        )


class OutboxRepo(Repo):
    """``store.outbox``."""

    def add(self, intent: OutboxIntent) -> bool:
        """Store a PENDING intent; False (and no change) if its id is already stored."""
        values = (
            check_text(intent.intent_id, field="intent_id"),
            check_strategy(intent.strategy),
            check_name(intent.symbol, field="symbol"),
            Action(intent.action).value,
            check_quantity(intent.quantity),
            decimal_text(intent.price, field="price"),
            utc_text(intent.signal_time, field="signal_time"),
            dump_json(dict(intent.payload), field=f"{intent.intent_id}.payload"),
        )
        with self._db.transaction() as conn:
            now = self._now()
            cursor = conn.execute(
                "INSERT INTO outbox (intent_id, strategy, symbol, action, quantity, price, signal_time,"
                " payload, status, attempts, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?) ON CONFLICT (intent_id) DO NOTHING",
                (*values, OrderStatus.PENDING.value, now, now),
            )
            return cursor.rowcount == 1

    def mark(self, intent_id: str, status: OrderStatus, http_status: int | None = None,
             detail: str | None = None, attempts: int | None = None) -> OutboxRecord:
        """Record a delivery outcome; ``attempts`` never goes down. UNKNOWN rows need ``resolve``."""
        new = OrderStatus(status)
        if http_status is not None:
            check_int(http_status, field="http_status")
        with self._db.transaction() as conn:
            current = self._get(conn, intent_id)
            if current.status in OPERATOR_ONLY:
                raise IllegalTransition(
                    f"outbox {intent_id}: {current.status.value} is settled only by an operator (resolve)"
                )
            ensure_transition(ORDER_TRANSITIONS, current.status, new, what=f"outbox {intent_id}")
            count = current.attempts if attempts is None else check_int(attempts, field="attempts")
            if count < current.attempts:
                raise ValueError(f"outbox {intent_id}: attempts cannot go down ({current.attempts} -> {count})")
            conn.execute(
                "UPDATE outbox SET status = ?, attempts = ?, http_status = ?, detail = ?, updated_at = ?"
                " WHERE intent_id = ? AND status = ?",
                (new.value, count, http_status, redact(detail), self._now(), intent_id, current.status.value),
            )
            return self._get(conn, intent_id)

    def resolve(self, intent_id: str, sent: bool, by: str, detail: str | None = None, *,
                in_flight: bool = False) -> OutboxRecord:
        """An operator settles an UNKNOWN intent after checking the gateway: SENT or FAILED.

        ``in_flight=True`` also settles a PENDING row: one that was being delivered when the
        daemon stopped. The caller must make sure no daemon is running on this store."""
        who = check_text(by, field="by")
        new = OrderStatus.SENT if sent else OrderStatus.FAILED
        settleable = OPERATOR_ONLY | ({OrderStatus.PENDING} if in_flight else frozenset())
        with self._db.transaction() as conn:
            current = self._get(conn, intent_id)
            if current.status not in settleable:
                raise IllegalTransition(
                    f"outbox {intent_id}: only unknown intents are resolved, this one is {current.status.value}"
                )
            ensure_transition(ORDER_TRANSITIONS, current.status, new, what=f"outbox {intent_id}")
            conn.execute(
                "UPDATE outbox SET status = ?, resolved_by = ?, detail = coalesce(?, detail), updated_at = ?"
                " WHERE intent_id = ? AND status = ?",
                (new.value, who, redact(detail), self._now(), intent_id, current.status.value),
            )
            return self._get(conn, intent_id)

    def sweep_in_flight(self, detail: str) -> list[OutboxRecord]:
        """At start-up: a PENDING row with an attempt was being delivered when the last process
        stopped, so it may or may not have reached the gateway: it becomes UNKNOWN for an operator.
        A PENDING row never attempted cannot have reached it and stays PENDING, to be delivered."""
        swept = []
        with self._db.transaction() as conn:
            rows = conn.execute("SELECT * FROM outbox WHERE status = ? AND attempts > 0 ORDER BY rowid",
                                (OrderStatus.PENDING.value,)).fetchall()
            for row in rows:
                conn.execute("UPDATE outbox SET status = ?, detail = ?, updated_at = ? WHERE intent_id = ?",
                             (OrderStatus.UNKNOWN.value, redact(detail), self._now(), row["intent_id"]))
                swept.append(self._get(conn, row["intent_id"]))
        return swept

    def requeue_resolved(self, intent_id: str) -> OutboxRecord:
        """Deliver again an intent an operator settled as not delivered (FAILED with
        ``resolved_by``): it is PENDING again. Any other FAILED row stays final."""
        with self._db.transaction() as conn:
            current = self._get(conn, intent_id)
            if current.status is not OrderStatus.FAILED or not current.resolved_by:
                raise IllegalTransition(
                    f"outbox {intent_id}: only intents an operator settled as not delivered are sent again")
            conn.execute("UPDATE outbox SET status = ?, updated_at = ? WHERE intent_id = ?",
                         (OrderStatus.PENDING.value, self._now(), intent_id))
            return self._get(conn, intent_id)

    def get(self, intent_id: str) -> OutboxRecord | None:
        row = self._db.query_one("SELECT * FROM outbox WHERE intent_id = ?", (intent_id,))
        return None if row is None else OutboxRecord.from_row(row)

    def by_status(self, *statuses: OrderStatus) -> list[OutboxRecord]:
        """Rows in any of ``statuses``, oldest first."""
        values = [OrderStatus(s).value for s in statuses]
        if not values:
            return []
        marks = ", ".join("?" * len(values))
        rows = self._db.query(f"SELECT * FROM outbox WHERE status IN ({marks}) ORDER BY rowid", values)
        return [OutboxRecord.from_row(row) for row in rows]

    def exits_after(self, strategy: str, symbol: str, after: datetime) -> list[OutboxRecord]:
        """Exit intents of one instrument signalled after ``after`` (a position's entry), oldest first."""
        rows = self._db.query(
            "SELECT * FROM outbox WHERE strategy = ? AND symbol = ? AND action = ? AND signal_time > ?"
            " ORDER BY signal_time, rowid",
            (strategy, symbol, Action.EXIT.value, utc_text(after, field="after")))
        return [OutboxRecord.from_row(row) for row in rows]

    def backlog(self) -> list[OutboxRecord]:
        """What still needs attention after a restart: PENDING and UNKNOWN intents."""
        return self.by_status(OrderStatus.PENDING, OrderStatus.UNKNOWN)

    def all(self) -> list[OutboxRecord]:
        return [OutboxRecord.from_row(row) for row in self._db.query("SELECT * FROM outbox ORDER BY rowid")]

    @staticmethod
    def _get(conn: sqlite3.Connection, intent_id: str) -> OutboxRecord:
        row = conn.execute("SELECT * FROM outbox WHERE intent_id = ?", (intent_id,)).fetchone()
        if row is None:
            raise NotFound(f"outbox {intent_id}: no such intent")
        return OutboxRecord.from_row(row)
