"""``StateStore``: the open store, its table repositories and the multi-table writes."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from types import TracebackType
from typing import Any

from multialpha.clock import Clock, SystemClock
from multialpha.state.bars import BarRepo
from multialpha.state.daily import DailyRepo
from multialpha.state.db import Database, StateConflict
from multialpha.state.halts import HaltRepo
from multialpha.state.journal import JournalRepo, Trade
from multialpha.state.outbox import Action, OrderStatus, OutboxRepo
from multialpha.state.positions import Position, PositionRepo
from multialpha.state.values import ACCOUNT_SCOPE, utc_text

DEFAULT_BUSY_TIMEOUT_SECS = 10.0


class StateStore:
    """The daemon's durable state: one SQLite file in WAL mode.

    ``created_at``/``updated_at``-style columns come from ``clock``; business times (entry,
    exit, signal) are always passed in by the caller.
    """

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        def now() -> str:
            return utc_text(clock.now(), field="clock.now()")

        self.positions = PositionRepo(db, now)
        self.outbox = OutboxRepo(db, now)
        self.journal = JournalRepo(db, now)
        self.daily = DailyRepo(db, now)
        self.halts = HaltRepo(db, now)
        self.bars = BarRepo(db, now)

    @classmethod
    def open(cls, path: Path | str, *, create: bool = True, read_only: bool = False, synced_commits: bool = True,
             busy_timeout_secs: float = DEFAULT_BUSY_TIMEOUT_SECS, clock: Clock | None = None) -> StateStore:
        """Open (or, with ``create``, create) the store; the same path after a clean stop or a crash.

        Raises ``StateError`` for a file that is not a readable multialpha store of a schema
        version this code knows; such a file is never modified or replaced.
        """
        chosen = clock or SystemClock()
        db = Database.open(Path(path), create=create, busy_timeout_secs=busy_timeout_secs,
                           now_text=lambda: utc_text(chosen.now(), field="clock.now()"), read_only=read_only,
                           synced_commits=synced_commits)
        return cls(db, chosen)

    @property
    def path(self) -> Path:
        return self._db.path

    @property
    def db(self) -> Database:
        return self._db

    @property
    def schema_version(self) -> int:
        row = self._db.query_one("SELECT max(version) FROM schema_version")
        return 0 if row is None else int(row[0])

    @contextmanager
    def transaction(self) -> Iterator[StateStore]:
        """A unit of work: every repository call inside commits together or not at all."""
        with self._db.transaction():
            yield self

    def record_entry(self, *, intent_id: str, quantity: int, entry_time: datetime,
                     entry_price: Decimal | float | str, entry_atr: Decimal | float | str | None = None,
                     ml_score: float | None = None, extra: Mapping[str, Any] | None = None,
                     http_status: int | None = None, detail: str | None = None,
                     attempts: int | None = None) -> Position:
        """Mark the entry intent SENT and open its position, in one transaction."""
        with self._db.transaction():
            intent = self.outbox.mark(intent_id, OrderStatus.SENT, http_status=http_status,
                                      detail=detail, attempts=attempts)
            if intent.action is not Action.BUY:
                raise StateConflict(f"outbox {intent_id}: is an {intent.action.value} intent, not an entry")
            return self.positions.open(
                intent.strategy, intent.symbol, quantity=quantity, entry_time=entry_time,
                entry_price=entry_price, signal_id=intent_id, entry_atr=entry_atr, ml_score=ml_score,
                extra=extra,
            )

    def record_exit(self, *, strategy: str, symbol: str, exit_time: datetime,
                    exit_price: Decimal | float | str, pnl_cents: int, exit_reason: str,
                    exit_intent_id: str, trading_day: date,
                    features: Mapping[str, Any] | None = None) -> Trade:
        """Close the position, journal the trade and add its P&L to the day, in one transaction.

        ``pnl_cents`` is after commission; it is added to the strategy's and the account's
        realized P&L for ``trading_day`` (the exchange's day of the exit).
        """
        with self._db.transaction():
            position = self.positions.close(strategy, symbol)
            written = self.journal.record(
                strategy=strategy, symbol=symbol, quantity=position.quantity,
                entry_time=position.entry_time, entry_price=position.entry_price, exit_time=exit_time,
                exit_price=exit_price, pnl_cents=pnl_cents, exit_reason=exit_reason,
                trading_day=trading_day, entry_intent_id=position.signal_id,
                exit_intent_id=exit_intent_id, ml_score=position.ml_score, features=features,
            )
            if not written:
                raise StateConflict(f"journal: exit intent {exit_intent_id} is already journaled")
            self.daily.add_realized(trading_day, strategy, pnl_cents)
            self.daily.add_realized(trading_day, ACCOUNT_SCOPE, pnl_cents)
            recorded = self.journal.get(exit_intent_id)
            assert recorded is not None  # written above, same transaction
            return recorded

    def sync(self) -> None:
        """Every commit so far on disk (see ``Database.sync``)."""
        self._db.sync()

    def defer_wal_checkpoints(self) -> None:
        """No WAL checkpoint inside a commit from now on; see ``checkpoint_wal``."""
        self._db.defer_wal_checkpoints()

    def checkpoint_wal(self, min_bytes: int = 0) -> tuple[int, int]:
        """Fold the WAL into the store file now if it holds ``min_bytes``; (pages in the WAL,
        pages copied), (0, 0) when skipped."""
        return self._db.checkpoint_wal(min_bytes)

    def backup(self, dest: Path | str) -> Path:
        """A consistent copy of the live store (SQLite online backup), written atomically."""
        return self._db.backup(Path(dest))

    def close(self) -> None:
        self._db.close()

    @property
    def closed(self) -> bool:
        return self._db.closed

    def __enter__(self) -> StateStore:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

