"""Units of work, crash atomicity, a full disk, threads, backups."""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from multialpha.domain import OrderStatus
from multialpha.errors import IllegalTransition, StateError
from multialpha.state import (
    ACCOUNT_SCOPE,
    NotFound,
    PositionAlreadyOpen,
    StateConflict,
    StateStore,
    TradingState,
)

T0 = datetime(2024, 3, 1, 15, 0, tzinfo=UTC)
DAY = date(2024, 3, 1)


class Boom(Exception):
    pass


def _enter(store: StateStore, intent, symbol: str = "6A", strategy: str = "ibs_a"):
    entry = intent(strategy, symbol)
    store.outbox.add(entry)
    return store.record_entry(intent_id=entry.intent_id, quantity=1, entry_time=entry.signal_time,
                              entry_price=0.6543, entry_atr=0.0041, ml_score=0.7,
                              http_status=200, attempts=1)


def _exit(store: StateStore, intent, symbol: str = "6A", strategy: str = "ibs_a", *, pnl_cents: int = 4_800):
    leave = intent(strategy, symbol, hours=3, action="exit")
    store.outbox.add(leave)
    return store.record_exit(strategy=strategy, symbol=symbol, exit_time=leave.signal_time,
                             exit_price=0.6591, pnl_cents=pnl_cents, exit_reason="ibs_exit",
                             exit_intent_id=leave.intent_id, trading_day=DAY, features={"ibs": 0.91})


def _counts(store: StateStore) -> tuple[int, int, int, int]:
    one = store.db.query_one
    return (
        one("SELECT count(*) FROM positions")[0],  # type: ignore[index]
        one("SELECT count(*) FROM journal")[0],  # type: ignore[index]
        one("SELECT coalesce(sum(realized_cents), 0) FROM daily")[0],  # type: ignore[index]
        one("SELECT count(*) FROM outbox WHERE status = 'sent'")[0],  # type: ignore[index]
    )


def test_record_entry_then_intent_sent_and_position_open(store: StateStore, intent) -> None:
    position = _enter(store, intent)
    row = store.outbox.get(position.signal_id)
    assert row is not None and row.status is OrderStatus.SENT and row.http_status == 200
    assert position.entry_price == Decimal("0.6543") and position.entry_atr == Decimal("0.0041")


def test_record_entry_when_position_already_open_then_intent_stays_pending(store: StateStore, intent) -> None:
    store.positions.open("ibs_a", "6A", quantity=1, entry_time=T0, entry_price=1, signal_id="older")
    entry = intent()
    store.outbox.add(entry)
    with pytest.raises(PositionAlreadyOpen):
        store.record_entry(intent_id=entry.intent_id, quantity=1, entry_time=T0, entry_price=0.6543)
    assert store.outbox.get(entry.intent_id).status is OrderStatus.PENDING  # type: ignore[union-attr]


def test_record_entry_when_intent_is_an_exit_then_conflict_and_nothing_written(store: StateStore, intent) -> None:
    leave = intent(action="exit")
    store.outbox.add(leave)
    with pytest.raises(StateConflict, match="not an entry"):
        store.record_entry(intent_id=leave.intent_id, quantity=1, entry_time=T0, entry_price=1)
    assert store.outbox.get(leave.intent_id).status is OrderStatus.PENDING  # type: ignore[union-attr]
    assert store.positions.all() == []


def test_record_exit_then_position_closed_trade_journaled_pnl_added(store: StateStore, intent) -> None:
    _enter(store, intent)
    trade = _exit(store, intent)
    assert store.positions.all() == []
    assert trade.entry_intent_id == intent().intent_id and trade.ml_score == 0.7
    assert trade.pnl_cents == 4_800 and trade.exit_price == Decimal("0.6591")
    assert store.daily.get(DAY, "ibs_a").realized_cents == 4_800  # type: ignore[union-attr]
    assert store.daily.get(DAY, ACCOUNT_SCOPE).realized_cents == 4_800  # type: ignore[union-attr]


def test_record_exit_when_exit_already_journaled_then_nothing_changes(store: StateStore, intent) -> None:
    _enter(store, intent)
    leave = intent(hours=3, action="exit")
    store.journal.record(strategy="ibs_a", symbol="6A", quantity=1, entry_time=T0, entry_price=1,
                         exit_time=T0, exit_price=1, pnl_cents=0, exit_reason="manual", trading_day=DAY,
                         entry_intent_id="x", exit_intent_id=leave.intent_id)
    before = _counts(store)
    with pytest.raises(StateConflict, match="already journaled"):
        store.record_exit(strategy="ibs_a", symbol="6A", exit_time=leave.signal_time, exit_price=0.66,
                          pnl_cents=4_800, exit_reason="ibs_exit", exit_intent_id=leave.intent_id,
                          trading_day=DAY)
    assert _counts(store) == before
    assert store.positions.get("ibs_a", "6A") is not None


def test_record_exit_when_no_position_then_not_found(store: StateStore, intent) -> None:
    with pytest.raises(NotFound):
        _exit(store, intent)
    assert _counts(store) == (0, 0, 0, 0)


def test_transaction_when_failure_inside_then_nothing_written(store: StateStore, intent) -> None:
    _enter(store, intent)
    before = _counts(store)
    with pytest.raises(Boom), store.transaction():
        store.positions.close("ibs_a", "6A")
        store.journal.record(strategy="ibs_a", symbol="6A", quantity=1, entry_time=T0, entry_price=1,
                             exit_time=T0, exit_price=1, pnl_cents=100, exit_reason="x",
                             trading_day=DAY, entry_intent_id="a", exit_intent_id="b")
        store.daily.add_realized(DAY, "ibs_a", 100)
        store.halts.set("ibs_a", TradingState.HALTED, "why", "me")
        raise Boom  # the process "crashes" before COMMIT
    assert _counts(store) == before
    assert store.halts.state("ibs_a") is TradingState.ACTIVE
    assert store.positions.get("ibs_a", "6A") is not None


def test_transaction_when_inner_step_refused_and_caught_then_rest_commits(store: StateStore, intent) -> None:
    with store.transaction():
        store.outbox.add(intent())
        with pytest.raises(IllegalTransition):
            store.outbox.mark(intent().intent_id, OrderStatus.SENT)
            store.outbox.mark(intent().intent_id, OrderStatus.PENDING)  # refused: its own savepoint
        store.daily.add_realized(DAY, "ibs_a", 5)
    assert store.outbox.get(intent().intent_id).status is OrderStatus.SENT  # type: ignore[union-attr]
    assert store.daily.get(DAY, "ibs_a").realized_cents == 5  # type: ignore[union-attr]


def test_write_when_disk_full_then_state_error_and_earlier_data_intact(store: StateStore, intent) -> None:
    for hours in range(5):
        store.outbox.add(intent(hours=hours))
    _enter(store, intent, "ES")
    before = [r.intent_id for r in store.outbox.all()]
    pages = store.db.pragma("page_count")
    store.db.pragma("max_page_count", pages + 1)
    with pytest.raises(StateError, match="disk is full") as info:
        for hours in range(100, 200):
            store.outbox.add(intent(hours=hours, payload={"pad": "x" * 3000}))
    assert str(store.path) in str(info.value)
    added = [r.intent_id for r in store.outbox.all()]
    assert added[: len(before)] == before  # nothing earlier lost, the failing row absent
    assert all(r.payload.get("pad", "") in ("", "x" * 3000) for r in store.outbox.all())
    with pytest.raises(StateError, match="disk is full"), store.transaction():
        store.halts.set("ibs_a", TradingState.HALTED, "x" * 20_000, "me")
        store.journal.record(strategy="ibs_a", symbol="6A", quantity=1, entry_time=T0, entry_price=1,
                             exit_time=T0, exit_price=1, pnl_cents=100, exit_reason="y" * 20_000,
                             trading_day=DAY, entry_intent_id="a", exit_intent_id="b")
    assert store.halts.get("ibs_a") is None and store.journal.all() == []
    store.db.pragma("max_page_count", 1_000_000)  # space freed: the same store writes again
    store.outbox.add(intent(hours=999))
    store.close()
    with StateStore.open(store.path, create=False) as reopened:
        assert reopened.positions.get("ibs_a", "ES") is not None
        assert intent(hours=999).intent_id in {r.intent_id for r in reopened.outbox.all()}


def test_threads_when_eight_write_at_once_then_nothing_lost(store: StateStore, intent) -> None:
    per_thread, errors = 20, []

    def work(n: int) -> None:
        try:
            for i in range(per_thread):
                store.outbox.add(intent(f"s{n}", "ES", hours=i))
                store.journal.record(strategy=f"s{n}", symbol="ES", quantity=1, entry_time=T0,
                                     entry_price=1, exit_time=T0, exit_price=2, pnl_cents=i,
                                     exit_reason="x", trading_day=DAY, entry_intent_id=f"e{n}.{i}",
                                     exit_intent_id=f"x{n}.{i}")
                store.daily.add_realized(DAY, ACCOUNT_SCOPE, 1)
        except BaseException as exc:  # surfaced below: a thread must not fail silently
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(store.outbox.all()) == 8 * per_thread
    assert len(store.journal.all()) == 8 * per_thread
    assert store.daily.get(DAY, ACCOUNT_SCOPE).realized_cents == 8 * per_thread  # type: ignore[union-attr]


def test_threads_when_one_holds_a_transaction_then_others_wait_for_it(store: StateStore, intent) -> None:
    inside, release, seen = threading.Event(), threading.Event(), []

    def holder() -> None:
        with store.transaction():
            store.outbox.add(intent())
            inside.set()
            release.wait(5)

    thread = threading.Thread(target=holder)
    thread.start()
    inside.wait(5)
    reader = threading.Thread(target=lambda: seen.append(len(store.outbox.all())))
    reader.start()
    reader.join(0.2)
    assert reader.is_alive()  # the shared connection never shows another thread's uncommitted rows
    release.set()
    thread.join()
    reader.join()
    assert seen == [1]


def test_closed_store_then_state_error(store_path: Path) -> None:
    store = StateStore.open(store_path)
    store.close()
    store.close()  # idempotent
    assert store.closed
    with pytest.raises(StateError, match="closed"):
        store.halts.all()


def test_backup_then_readable_consistent_copy(store: StateStore, intent, tmp_path: Path) -> None:
    _enter(store, intent)
    _exit(store, intent)
    store.halts.set(ACCOUNT_SCOPE, TradingState.HALTED, "why", "me")
    dest = store.backup(tmp_path / "backups" / "copy.sqlite")
    store.outbox.add(intent(hours=50))  # after the backup: not in it
    with StateStore.open(dest, create=False) as copy:
        assert len(copy.journal.all()) == 1 and copy.positions.all() == []
        assert copy.halts.state(ACCOUNT_SCOPE) is TradingState.HALTED
        assert len(copy.outbox.all()) == 2
    assert sqlite3.connect(dest).execute("PRAGMA quick_check").fetchone()[0] == "ok"
    with pytest.raises(ValueError, match="itself"):
        store.backup(store.path)
    with pytest.raises(StateConflict), store.transaction():
        store.backup(tmp_path / "inside.sqlite")


def test_backup_when_destination_exists_then_replaced_atomically(store: StateStore, intent, tmp_path) -> None:
    dest = tmp_path / "copy.sqlite"
    store.backup(dest)
    store.outbox.add(intent())
    store.backup(dest)
    with StateStore.open(dest, create=False) as copy:
        assert len(copy.outbox.all()) == 1
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_clock_when_naive_then_refused(store_path: Path) -> None:
    class NaiveClock:
        def now(self) -> datetime:
            return datetime(2024, 3, 1) + timedelta(0)

    with pytest.raises(ValueError, match="no timezone"):
        StateStore.open(store_path, clock=NaiveClock())


def _wal_bytes(store: StateStore) -> int:
    wal = Path(f"{store.path}-wal")
    return wal.stat().st_size if wal.exists() else 0


def test_deferred_wal_checkpoints_leave_commits_alone_until_asked(store: StateStore, intent) -> None:
    store.defer_wal_checkpoints()
    assert store.db.pragma("wal_autocheckpoint") == 0
    payload = {"pad": "x" * 41_000}  # about ten pages per row: 120 rows pass SQLite's 1,000-page default
    for hour in range(120):
        store.outbox.add(intent("ibs_a", "6A", hours=hour, payload=payload))
    grown = _wal_bytes(store)
    assert grown > 1000 * 4096  # no commit folded the WAL back (it would have restarted it)
    assert store.checkpoint_wal(min_bytes=grown + 1) == (0, 0)  # under the threshold: skipped
    pages, copied = store.checkpoint_wal(min_bytes=grown)
    assert pages > 1000 and copied == pages
    store.outbox.add(intent("ibs_a", "6A", hours=5000))  # the next commit restarts the WAL from its start
    assert _wal_bytes(store) == grown
    assert store.checkpoint_wal()[0] < 10
    assert store.outbox.get(intent("ibs_a", "6A", hours=119).intent_id) is not None


def test_checkpoint_wal_inside_a_transaction_is_refused(store: StateStore, intent) -> None:
    with store.transaction() as st:
        st.outbox.add(intent("ibs_a", "6A"))
        with pytest.raises(StateError, match="inside a transaction"):
            st.checkpoint_wal()
    assert store.outbox.get(intent("ibs_a", "6A").intent_id) is not None
