"""Schema versions: forward-only migrations applied in order when the store opens.

Each migration runs in its own ``BEGIN IMMEDIATE`` transaction together with the row that
records it in ``schema_version``, so a crash mid-migration leaves the previous version intact
and the next start simply runs it again. A store whose version is newer than the newest
migration here was written by newer code and is refused rather than guessed at.

Columns keep exact values: prices and ATRs as Decimal text, money as integer cents, instants as
fixed-width UTC text (``2024-03-01T15:00:00.000000Z``, so text order is time order), trading
days as ISO dates. Type checks are ``CHECK`` constraints rather than ``STRICT`` tables so the
file opens with any SQLite from 3.24 on.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from multialpha.errors import StateError

APPLICATION_ID = 0x4D414C50  # "MALP" in the SQLite header: marks a multialpha state store
APPLICATION_NAME = "multialpha"


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    sql: str


_V1 = f"""
PRAGMA application_id = {APPLICATION_ID};

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
INSERT INTO meta (key, value) VALUES ('application', '{APPLICATION_NAME}');
INSERT INTO meta (key, value) VALUES ('created_at', strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));

CREATE TABLE schema_version (
    version     INTEGER PRIMARY KEY,
    description TEXT NOT NULL,
    applied_at  TEXT NOT NULL
);

CREATE TABLE positions (
    strategy    TEXT NOT NULL,
    symbol      TEXT NOT NULL,
    quantity    INTEGER NOT NULL CHECK (typeof(quantity) = 'integer' AND quantity > 0),
    entry_time  TEXT NOT NULL,
    entry_price TEXT NOT NULL,
    signal_id   TEXT NOT NULL,
    entry_atr   TEXT,
    ml_score    REAL,
    extra       TEXT NOT NULL DEFAULT '{{}}',
    opened_at   TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (strategy, symbol)
);

CREATE TABLE outbox (
    intent_id   TEXT PRIMARY KEY,
    strategy    TEXT NOT NULL,
    symbol      TEXT NOT NULL,
    action      TEXT NOT NULL CHECK (action IN ('buy', 'exit')),
    quantity    INTEGER NOT NULL CHECK (typeof(quantity) = 'integer' AND quantity > 0),
    price       TEXT NOT NULL,
    signal_time TEXT NOT NULL,
    payload     TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed', 'unknown')),
    attempts    INTEGER NOT NULL DEFAULT 0 CHECK (typeof(attempts) = 'integer' AND attempts >= 0),
    http_status INTEGER CHECK (http_status IS NULL OR typeof(http_status) = 'integer'),
    detail      TEXT,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    resolved_by TEXT
);
CREATE INDEX outbox_by_status ON outbox (status);

CREATE TABLE journal (
    id              INTEGER PRIMARY KEY,
    strategy        TEXT NOT NULL,
    symbol          TEXT NOT NULL,
    quantity        INTEGER NOT NULL CHECK (typeof(quantity) = 'integer' AND quantity > 0),
    entry_time      TEXT NOT NULL,
    entry_price     TEXT NOT NULL,
    exit_time       TEXT NOT NULL,
    exit_price      TEXT NOT NULL,
    pnl_cents       INTEGER NOT NULL CHECK (typeof(pnl_cents) = 'integer'),
    exit_reason     TEXT NOT NULL,
    trading_day     TEXT NOT NULL,
    ml_score        REAL,
    features        TEXT NOT NULL DEFAULT '{{}}',
    entry_intent_id TEXT NOT NULL,
    exit_intent_id  TEXT NOT NULL UNIQUE,
    recorded_at     TEXT NOT NULL
);
CREATE INDEX journal_by_day ON journal (trading_day, strategy);
CREATE INDEX journal_by_strategy ON journal (strategy, exit_time);

CREATE TABLE daily (
    trading_day    TEXT NOT NULL,
    scope          TEXT NOT NULL,
    realized_cents INTEGER NOT NULL DEFAULT 0 CHECK (typeof(realized_cents) = 'integer'),
    stopped        INTEGER NOT NULL DEFAULT 0 CHECK (stopped IN (0, 1)),
    stopped_at     TEXT,
    stats          TEXT NOT NULL DEFAULT '{{}}',
    updated_at     TEXT NOT NULL,
    PRIMARY KEY (trading_day, scope)
);

CREATE TABLE snapshots (
    name        TEXT PRIMARY KEY,
    trading_day TEXT NOT NULL,
    data        TEXT NOT NULL,
    saved_at    TEXT NOT NULL
);

CREATE TABLE halts (
    scope             TEXT PRIMARY KEY,
    state             TEXT NOT NULL CHECK (state IN ('active', 'reducing', 'halted')),
    reason            TEXT NOT NULL,
    since             TEXT NOT NULL,
    set_by            TEXT NOT NULL,
    flatten_requested INTEGER NOT NULL DEFAULT 0 CHECK (flatten_requested IN (0, 1)),
    updated_at        TEXT NOT NULL
);

CREATE TABLE halt_history (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    scope             TEXT NOT NULL,
    event             TEXT NOT NULL CHECK (event IN ('set', 'flatten_requested', 'flatten_cleared')),
    from_state        TEXT,
    to_state          TEXT NOT NULL,
    reason            TEXT NOT NULL,
    set_by            TEXT NOT NULL,
    flatten_requested INTEGER NOT NULL CHECK (flatten_requested IN (0, 1)),
    at                TEXT NOT NULL
);
CREATE TRIGGER halt_history_no_update BEFORE UPDATE ON halt_history
BEGIN
    SELECT RAISE(ABORT, 'halt_history is append-only');
END;
CREATE TRIGGER halt_history_no_delete BEFORE DELETE ON halt_history
BEGIN
    SELECT RAISE(ABORT, 'halt_history is append-only');
END;

CREATE TABLE bars (
    symbol        TEXT PRIMARY KEY,
    last_bar_time TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
"""

MIGRATIONS: tuple[Migration, ...] = (Migration(1, "initial schema", _V1),)
SCHEMA_VERSION = MIGRATIONS[-1].version


def split_statements(sql: str) -> list[str]:
    """Complete SQL statements of a script, trigger bodies kept whole.

    ``executescript`` would commit first, which would break the one-transaction migration.
    """
    statements: list[str] = []
    pending = ""
    for piece in sql.split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            if pending.strip(" \n\t;"):
                statements.append(pending.strip())
            pending = ""
    if pending.strip(" \n\t;"):
        raise ValueError(f"incomplete SQL statement at the end of a migration: {pending.strip()[:80]!r}")
    return statements


def current_version(conn: sqlite3.Connection) -> int:
    """The newest applied schema version, 0 for an empty database."""
    exists = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
    ).fetchone()
    if exists is None:
        return 0
    row = conn.execute("SELECT max(version) FROM schema_version").fetchone()
    return int(row[0] or 0)


def check_not_newer(path: Path, version: int, known: int = SCHEMA_VERSION) -> None:
    if version > known:
        raise StateError(
            f"state store {path}: schema version {version} was written by a newer multialpha "
            f"(this one knows versions up to {known}); refusing to open it. "
            "Run the newer release, or restore a backup taken by this release."
        )


def upgrade(conn: sqlite3.Connection, path: Path, now_text: Callable[[], str],
            before: Callable[[int], object] | None = None,
            plan: Sequence[Migration] = MIGRATIONS) -> list[int]:
    """Apply every pending migration in order; return the versions applied.

    ``before(old_version)`` runs once before the first migration of a store that already has
    a schema (the caller takes a backup there). ``conn`` must be in autocommit mode.
    """
    versions = [m.version for m in plan]
    if not versions or versions != sorted(set(versions)) or versions[0] < 1:
        raise ValueError(f"migration versions must be unique, ascending and >= 1, got {versions}")
    version = current_version(conn)
    check_not_newer(path, version, plan[-1].version)
    todo = [m for m in plan if m.version > version]
    if todo and version > 0 and before is not None:
        before(version)
    applied: list[int] = []
    for migration in todo:
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Another process may have migrated between our read and our lock.
            if current_version(conn) >= migration.version:
                conn.execute("ROLLBACK")
                continue
            for statement in split_statements(migration.sql):
                conn.execute(statement)
            conn.execute(
                "INSERT INTO schema_version (version, description, applied_at) VALUES (?, ?, ?)",
                (migration.version, migration.description, now_text()),
            )
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        applied.append(migration.version)
    return applied
