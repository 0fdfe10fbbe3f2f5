"""Opening, creating, migrating and refusing store files."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from multialpha.errors import StateError
from multialpha.state import APPLICATION_ID, SCHEMA_VERSION, StateStore, TradingState
from multialpha.state.migrations import Migration, current_version, split_statements, upgrade


def _make_store_with_rows(path: Path, intent, rows: int = 200) -> None:
    with StateStore.open(path) as store, store.transaction():
        for i in range(rows):
            store.outbox.add(intent(hours=i, payload={"pad": "x" * 400}))


def _snapshot(path: Path) -> tuple[bytes, set[str]]:
    return path.read_bytes(), set(os.listdir(path.parent))


def test_open_when_missing_then_creates_parents_in_wal_mode(store_path: Path) -> None:
    with StateStore.open(store_path) as store:
        assert store.db.pragma("journal_mode") == "wal"
        assert store.db.pragma("synchronous") == 2  # FULL
        assert store.db.pragma("foreign_keys") == 1
        assert store.db.pragma("application_id") == APPLICATION_ID
        assert store.db.pragma("busy_timeout") == 10_000
        assert store.schema_version == SCHEMA_VERSION
    assert store_path.is_file()
    # Creation goes through a temporary name: nothing else is left beside the store.
    assert sorted(os.listdir(store_path.parent)) == [store_path.name]


def test_open_when_reopened_then_migrations_are_idempotent_and_data_kept(store_path: Path, intent) -> None:
    with StateStore.open(store_path) as store:
        store.outbox.add(intent())
    for _ in range(3):
        with StateStore.open(store_path, create=False) as store:
            assert store.schema_version == SCHEMA_VERSION
            assert len(store.outbox.all()) == 1
            rows = store.db.query("SELECT version FROM schema_version")
            assert [r[0] for r in rows] == list(range(1, SCHEMA_VERSION + 1))


def test_open_when_missing_and_create_false_then_state_error(store_path: Path) -> None:
    with pytest.raises(StateError, match="does not exist"):
        StateStore.open(store_path, create=False)
    assert not store_path.exists()


def test_open_when_schema_is_newer_then_refuses_without_touching_file(store_path: Path) -> None:
    StateStore.open(store_path).close()
    raw = sqlite3.connect(store_path)
    raw.execute("INSERT INTO schema_version VALUES (?, 'from the future', '2099-01-01T00:00:00.000000Z')",
                (SCHEMA_VERSION + 1,))
    raw.commit()
    raw.close()
    before = store_path.read_bytes()
    with pytest.raises(StateError, match="newer multialpha") as info:
        StateStore.open(store_path)
    assert str(store_path) in str(info.value)
    assert store_path.read_bytes() == before


@pytest.mark.parametrize(
    "content",
    [os.urandom(8192), b"", b"SQLite format 3\x00" + b"\x00" * 20, b"not a database at all\n" * 100],
    ids=["random-bytes", "empty", "short-header", "text"],
)
def test_open_when_file_is_not_a_store_then_refuses_and_keeps_it(store_path: Path, content: bytes) -> None:
    store_path.parent.mkdir(parents=True)
    store_path.write_bytes(content)
    before = _snapshot(store_path)
    with pytest.raises(StateError, match="refuses to start flat") as info:
        StateStore.open(store_path)
    assert str(store_path) in str(info.value)
    assert _snapshot(store_path) == before


@pytest.mark.parametrize("fraction", [0.3, 0.6, 0.95])
def test_open_when_file_is_truncated_then_refuses_and_keeps_it(store_path: Path, fraction: float, intent) -> None:
    store_path.parent.mkdir(parents=True)
    _make_store_with_rows(store_path, intent)
    data = store_path.read_bytes()
    store_path.write_bytes(data[: int(len(data) * fraction)])
    before = store_path.read_bytes()
    with pytest.raises(StateError, match="refuses to start flat"):
        StateStore.open(store_path)
    assert store_path.read_bytes() == before


def test_open_when_file_is_a_foreign_sqlite_db_then_refuses_and_keeps_it(store_path: Path) -> None:
    store_path.parent.mkdir(parents=True)
    raw = sqlite3.connect(store_path)
    raw.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
    raw.execute("INSERT INTO customers (name) VALUES ('somebody')")
    raw.commit()
    raw.close()
    before = _snapshot(store_path)
    with pytest.raises(StateError, match="not a multialpha state store"):
        StateStore.open(store_path)
    assert _snapshot(store_path) == before
    assert sqlite3.connect(store_path).execute("PRAGMA journal_mode").fetchone()[0] == "delete"


def test_open_when_foreign_db_reuses_our_table_names_but_not_our_id_then_refuses(store_path: Path) -> None:
    store_path.parent.mkdir(parents=True)
    raw = sqlite3.connect(store_path)
    raw.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
    raw.execute("INSERT INTO meta VALUES ('application', 'multialpha')")
    raw.commit()
    raw.close()
    with pytest.raises(StateError, match="not a multialpha state store"):
        StateStore.open(store_path)


def test_open_when_path_is_a_directory_then_refuses(store_path: Path) -> None:
    store_path.mkdir(parents=True)
    with pytest.raises(StateError, match="not a regular file"):
        StateStore.open(store_path)


def test_open_when_store_missing_but_wal_left_then_refuses_to_start_fresh(store_path: Path) -> None:
    store_path.parent.mkdir(parents=True)
    Path(f"{store_path}-wal").write_bytes(b"\x00" * 32)
    with pytest.raises(StateError, match="-wal exists"):
        StateStore.open(store_path)
    assert not store_path.exists()


def test_open_when_process_died_without_close_then_committed_rows_survive(store_path: Path, intent) -> None:
    store = StateStore.open(store_path)
    store.outbox.add(intent())
    # Copy the files as a kill -9 would leave them: main file plus an unmerged WAL.
    crashed = store_path.with_name("crashed.sqlite")
    crashed.write_bytes(store_path.read_bytes())
    Path(f"{crashed}-wal").write_bytes(Path(f"{store_path}-wal").read_bytes())
    store.close()
    with StateStore.open(crashed, create=False) as recovered:
        assert [r.intent_id for r in recovered.outbox.all()] == [intent().intent_id]


def test_split_statements_keeps_trigger_bodies_whole() -> None:
    sql = """
    CREATE TABLE a (x INTEGER);
    CREATE TRIGGER t BEFORE DELETE ON a BEGIN SELECT RAISE(ABORT, 'no'); SELECT 1; END;
    INSERT INTO a VALUES (1);
    """
    statements = split_statements(sql)
    assert len(statements) == 3
    assert statements[1].startswith("CREATE TRIGGER") and statements[1].endswith("END;")


def _raw(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None)


def test_upgrade_when_new_migration_then_applies_it_once_after_calling_before(store_path: Path) -> None:
    StateStore.open(store_path).close()
    from multialpha.state.migrations import MIGRATIONS

    plan = (*MIGRATIONS, Migration(SCHEMA_VERSION + 1, "add notes", "CREATE TABLE notes (n TEXT);"))
    seen: list[int] = []
    conn = _raw(store_path)
    assert upgrade(conn, store_path, lambda: "2024-01-01T00:00:00.000000Z", seen.append, plan) == [
        SCHEMA_VERSION + 1
    ]
    assert seen == [SCHEMA_VERSION]
    assert upgrade(conn, store_path, lambda: "2024-01-01T00:00:00.000000Z", seen.append, plan) == []
    assert current_version(conn) == SCHEMA_VERSION + 1
    conn.close()


def test_upgrade_when_migration_fails_midway_then_previous_version_intact(store_path: Path) -> None:
    StateStore.open(store_path).close()
    from multialpha.state.migrations import MIGRATIONS

    broken = Migration(SCHEMA_VERSION + 1, "broken", "CREATE TABLE notes (n TEXT); INSERT INTO nowhere VALUES (1);")
    conn = _raw(store_path)
    with pytest.raises(sqlite3.OperationalError):
        upgrade(conn, store_path, lambda: "2024-01-01T00:00:00.000000Z", None, (*MIGRATIONS, broken))
    assert current_version(conn) == SCHEMA_VERSION
    assert conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'notes'").fetchone() is None
    conn.close()
    StateStore.open(store_path).close()


def test_upgrade_when_plan_out_of_order_then_value_error(tmp_path: Path) -> None:
    conn = _raw(tmp_path / "x.sqlite")
    plan = (Migration(2, "b", "SELECT 1;"), Migration(1, "a", "SELECT 1;"))
    with pytest.raises(ValueError, match="ascending"):
        upgrade(conn, tmp_path / "x.sqlite", lambda: "", None, plan)
    conn.close()


def test_open_when_commits_not_synced_then_normal_sync_and_sync_puts_them_on_disk(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    with StateStore.open(path, synced_commits=False) as store:
        assert store.db.pragma("synchronous") == 1  # NORMAL: a commit does not wait for the disk
        store.halts.set("account", TradingState.HALTED, "test", "desk")
        store.sync()  # what a sender does before a POST
        with StateStore.open(path, create=False, read_only=True) as other:
            assert other.halts.state("account") is TradingState.HALTED
