"""The store's one SQLite connection: opening checks, pragmas, locking, short transactions.

Durability where it matters: the file is in WAL mode. By default (``synchronous=FULL``) every
commit is fsynced to the WAL before ``COMMIT`` returns. The daemon opens it with
``synced_commits=False`` (``synchronous=NORMAL``): a commit is handed to the operating system at
once (it survives the process dying, ``kill -9`` included) and reaches the disk when ``sync()``
fsyncs the WAL, which the order senders do before every POST. So no order leaves before its
decision is on disk, and no decision waits for the disk: a power cut can only lose decisions
whose orders never left, made again when their bar time is processed again.

One connection is shared by every thread of the process and guarded by a re-entrant lock;
each write is one short ``BEGIN IMMEDIATE`` transaction (nested writes become savepoints), so
threads never interleave inside a transaction and another process (the operator's ``halt``
command) waits at most ``busy_timeout`` for the write lock. Readers in other processes are
never blocked (WAL).

Opening is the same code after a clean stop and after a crash: SQLite replays or discards the
WAL, ``quick_check`` verifies the file, the application id proves it is a multialpha store,
and pending migrations run. A file that fails any of these is refused with a ``StateError``;
it is never replaced, so the daemon cannot start flat by accident.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from multialpha.errors import MultialphaError, StateError
from multialpha.state import migrations

SQLITE_MAGIC = b"SQLite format 3\x00"
REFUSAL = (
    "the daemon refuses to start flat on a state store it cannot read; restore a backup "
    "or move the file away deliberately (it was not modified)"
)

class StateConflict(MultialphaError, ValueError):
    """A write contradicts what the store holds; nothing was written."""


class PositionAlreadyOpen(StateConflict):
    """An open position already exists for this (strategy, symbol)."""


class NotFound(StateConflict, LookupError):
    """The row the write refers to does not exist."""


def map_error(path: Path, exc: sqlite3.Error, doing: str) -> MultialphaError:
    """One clear error naming the file for a failure SQLite reported."""
    name = getattr(exc, "sqlite_errorname", None) or type(exc).__name__
    text = str(exc)
    low = text.lower()
    if isinstance(exc, sqlite3.IntegrityError):
        return StateConflict(f"state store {path}: {doing}: a constraint refused the write ({text})")
    if name.startswith("SQLITE_FULL") or "full" in low:
        why = ("the disk is full (or the store hit its size limit); the transaction was rolled "
               "back and nothing of it was written; free space, then restart")
    elif name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in low:
        why = ("the database stayed locked by another connection beyond the busy timeout; "
               "the transaction was rolled back")
    elif name.startswith("SQLITE_IOERR") or "i/o" in low:
        why = "the disk reported an I/O error; the transaction was rolled back; check the disk"
    elif name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")) or "malformed" in low or "not a database" in low:
        why = f"the file is corrupt; {REFUSAL}"
    elif name.startswith("SQLITE_READONLY") or "readonly" in low:
        why = "the file or its directory is read-only; the daemon needs to write its state"
    elif name.startswith("SQLITE_CANTOPEN") or "unable to open" in low:
        why = "the file cannot be opened (missing directory or permissions)"
    elif "closed" in low:
        why = "the store is closed"
    else:
        why = "unexpected SQLite error"
    return StateError(f"state store {path}: {doing}: {why} ({name}: {text})")


def _connect(path: Path, *, timeout_secs: float, must_exist: bool) -> sqlite3.Connection:
    # mode=rw never creates the file: a store that vanished is an error, not a fresh start.
    target = f"{path.absolute().as_uri()}?mode=rw" if must_exist else str(path)
    conn = sqlite3.connect(target, timeout=timeout_secs, isolation_level=None,
                           check_same_thread=False, uri=must_exist)
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout = {int(timeout_secs * 1000)}")
    return conn


def _set_pragmas(conn: sqlite3.Connection, path: Path, synchronous: str = "FULL") -> None:
    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if str(mode).lower() != "wal":
        raise StateError(f"state store {path}: cannot switch to WAL mode (got {mode!r}); "
                         "put the store on a local filesystem")
    conn.execute(f"PRAGMA synchronous = {'NORMAL' if synchronous == 'NORMAL' else 'FULL'}")
    conn.execute("PRAGMA foreign_keys = ON")


def _check_header(path: Path) -> None:
    if not path.is_file():
        raise StateError(f"state store {path}: is not a regular file; {REFUSAL}")
    try:
        with path.open("rb") as handle:
            head = handle.read(100)
    except OSError as exc:
        raise StateError(f"state store {path}: cannot read it ({exc})") from exc
    if not head:
        raise StateError(f"state store {path}: is empty (0 bytes), not a multialpha store; {REFUSAL}")
    if len(head) < 100 or not head.startswith(SQLITE_MAGIC):
        raise StateError(f"state store {path}: is not a SQLite database; {REFUSAL}")


def _check_identity(conn: sqlite3.Connection, path: Path) -> None:
    """Integrity and ownership, read-only: nothing is written before these pass."""
    try:
        problems = [str(row[0]) for row in conn.execute("PRAGMA quick_check").fetchall()]
    except sqlite3.DatabaseError as exc:
        raise StateError(f"state store {path}: unreadable ({exc}); {REFUSAL}") from exc
    if problems != ["ok"]:
        raise StateError(f"state store {path}: failed its integrity check ({'; '.join(problems[:3])}); {REFUSAL}")
    app_id = conn.execute("PRAGMA application_id").fetchone()[0]
    has_meta = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").fetchone()
    owner = None
    if has_meta:
        row = conn.execute("SELECT value FROM meta WHERE key = 'application'").fetchone()
        owner = None if row is None else row[0]
    if app_id != migrations.APPLICATION_ID or owner != migrations.APPLICATION_NAME:
        raise StateError(f"state store {path}: is a SQLite database but not a multialpha state store "
                         f"(application_id {app_id:#x}); {REFUSAL}")
    version = migrations.current_version(conn)
    if version < 1:
        raise StateError(f"state store {path}: has no schema version; {REFUSAL}")
    migrations.check_not_newer(path, version)


def _fsync(path: Path, *, directory: bool = False) -> None:
    flags = os.O_RDONLY | (getattr(os, "O_DIRECTORY", 0) if directory else 0)
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove_sqlite_files(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        with suppress(FileNotFoundError):
            os.unlink(f"{path}{suffix}")


def _remove_stale_creations(path: Path) -> None:
    """Files left by a store creation that was interrupted (the process died before linking the
    new store in) are removed at the next start; one being built by a live process is kept."""
    for tmp in path.parent.glob(f".{path.name}.creating-*"):
        pid = tmp.name.rsplit(".creating-", 1)[1].split("-", 1)[0]  # .NAME.creating-PID-TID[-wal|-shm]
        if pid.isdigit() and _alive(int(pid)):
            continue
        with suppress(FileNotFoundError):
            tmp.unlink()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _create(path: Path, *, timeout_secs: float, now_text: Callable[[], str]) -> None:
    """Build the new store beside its final name and link it in: it appears complete or not at all."""
    if os.path.lexists(f"{path}-wal"):
        raise StateError(f"state store {path}: is missing but {path}-wal exists; {REFUSAL}")
    tmp = path.with_name(f".{path.name}.creating-{os.getpid()}-{threading.get_ident()}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        _remove_sqlite_files(tmp)
        conn = _connect(tmp, timeout_secs=timeout_secs, must_exist=False)
        try:
            _set_pragmas(conn, tmp)
            migrations.upgrade(conn, tmp, now_text)
        finally:
            conn.close()  # checkpoints the WAL into the file and deletes it
        if os.path.exists(f"{tmp}-wal"):
            raise StateError(f"state store {path}: the new store's WAL was not checkpointed")
        _fsync(tmp)
        with suppress(FileExistsError):  # never replaces: a store another process just created wins
            os.link(tmp, path)
        _fsync(path.parent, directory=True)
    except OSError as exc:
        raise StateError(f"state store {path}: cannot create it ({exc})") from exc
    except sqlite3.Error as exc:
        raise map_error(path, exc, "creating the store") from exc
    finally:
        _remove_sqlite_files(tmp)


def backup_connection(conn: sqlite3.Connection, dest: Path) -> Path:
    """Copy a live store with SQLite's online backup API into ``dest``, atomically."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.partial-{os.getpid()}-{threading.get_ident()}")
    _remove_sqlite_files(tmp)
    try:
        target = sqlite3.connect(str(tmp), isolation_level=None)
        try:
            conn.backup(target)
        finally:
            target.close()
        check = _connect(tmp, timeout_secs=5.0, must_exist=True)
        try:
            _check_identity(check, dest)
        finally:
            check.close()
        _fsync(tmp)
        os.replace(tmp, dest)
        _fsync(dest.parent, directory=True)
    finally:
        _remove_sqlite_files(tmp)
    return dest


class Database:
    """A verified, migrated store file and the lock around its connection."""

    def __init__(self, path: Path, conn: sqlite3.Connection, *, lock_timeout_secs: float) -> None:
        self.path = path
        self._conn: sqlite3.Connection | None = conn
        self._lock = threading.RLock()
        self._lock_timeout_secs = lock_timeout_secs
        self._depth = 0  # transaction nesting of the thread holding the lock

    @classmethod
    def open(cls, path: Path, *, create: bool, busy_timeout_secs: float,
             now_text: Callable[[], str], read_only: bool = False, synced_commits: bool = True) -> Database:
        """``read_only``: verify and read without writing anything (no migration, no pragma
        change), for ``multialpha check``."""
        if not os.path.lexists(path):
            if not create or read_only:
                raise StateError(f"state store {path}: does not exist")
            _remove_stale_creations(path)
            _create(path, timeout_secs=busy_timeout_secs, now_text=now_text)
        _check_header(path)
        if read_only:
            return cls._open_read_only(path, busy_timeout_secs)
        try:
            conn = _connect(path, timeout_secs=busy_timeout_secs, must_exist=True)
        except sqlite3.Error as exc:
            raise map_error(path, exc, "opening") from exc
        try:
            _check_identity(conn, path)
            _set_pragmas(conn, path, "FULL" if synced_commits else "NORMAL")
            migrations.upgrade(
                conn, path, now_text,
                before=lambda old: backup_connection(conn, path.with_name(f"{path.name}.v{old}.bak")),
            )
        except sqlite3.Error as exc:
            conn.close()
            raise map_error(path, exc, "opening") from exc
        except OSError as exc:  # the backup taken before a migration
            conn.close()
            raise StateError(f"state store {path}: backing up before migrating: {exc}") from exc
        except BaseException:
            conn.close()
            raise
        return cls(path, conn, lock_timeout_secs=busy_timeout_secs)

    @classmethod
    def _open_read_only(cls, path: Path, busy_timeout_secs: float) -> Database:
        # Without a -wal file the store was closed cleanly and no daemon has it open: read it as
        # immutable, so not even SQLite's -shm/-wal files get created. With one, read through it.
        immutable = "&immutable=1" if not os.path.exists(f"{path}-wal") else ""
        try:
            conn = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro{immutable}", uri=True,
                                   isolation_level=None, check_same_thread=False, timeout=busy_timeout_secs)
            conn.row_factory = sqlite3.Row
            _check_identity(conn, path)
        except sqlite3.Error as exc:
            raise map_error(path, exc, "opening read-only") from exc
        return cls(path, conn, lock_timeout_secs=busy_timeout_secs)

    @contextmanager
    def _locked(self) -> Iterator[sqlite3.Connection]:
        if not self._lock.acquire(timeout=self._lock_timeout_secs):
            raise StateError(f"state store {self.path}: another thread held the store for more than "
                             f"{self._lock_timeout_secs:g} s")
        try:
            if self._conn is None:
                raise StateError(f"state store {self.path}: the store is closed")
            yield self._conn
        finally:
            self._lock.release()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic write; nested calls join the outer transaction as savepoints."""
        with self._locked() as conn:
            outer = self._depth == 0
            savepoint = f"sp{self._depth}"
            if not outer and not conn.in_transaction:
                raise StateError(f"state store {self.path}: the enclosing transaction was already "
                                 "rolled back by SQLite; nothing of it was written")
            try:
                conn.execute("BEGIN IMMEDIATE" if outer else f"SAVEPOINT {savepoint}")
            except sqlite3.Error as exc:
                raise map_error(self.path, exc, "starting a write") from exc
            self._depth += 1
            try:
                yield conn
                if not conn.in_transaction:
                    raise StateError(f"state store {self.path}: the transaction was rolled back by "
                                     "SQLite; nothing of it was written")
                conn.execute("COMMIT" if outer else f"RELEASE {savepoint}")
            except BaseException as exc:
                self._undo(conn, outer, savepoint)
                if isinstance(exc, sqlite3.Error):
                    raise map_error(self.path, exc, "writing") from exc
                raise
            finally:
                self._depth -= 1

    @staticmethod
    def _undo(conn: sqlite3.Connection, outer: bool, savepoint: str) -> None:
        # SQLite may already have rolled the whole transaction back (disk full, I/O error).
        if not conn.in_transaction:
            return
        with suppress(sqlite3.Error):
            if outer:
                conn.execute("ROLLBACK")
            else:
                conn.execute(f"ROLLBACK TO {savepoint}")
                conn.execute(f"RELEASE {savepoint}")

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with self._locked() as conn:
            try:
                return conn.execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                raise map_error(self.path, exc, "reading") from exc

    def query_one(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
        rows = self.query(sql, params)
        return rows[0] if rows else None

    def defer_wal_checkpoints(self) -> None:
        """Stop SQLite from copying the WAL back into the store inside whichever commit crosses
        its size limit (an automatic checkpoint: several fsyncs, milliseconds, possibly the
        commit of an order's outbox row). The caller then runs ``checkpoint_wal`` itself when
        nothing waits on the store (the daemon: after each bar time)."""
        with self._locked() as conn:
            try:
                conn.execute("PRAGMA wal_autocheckpoint = 0")
            except sqlite3.Error as exc:
                raise map_error(self.path, exc, "configuring") from exc

    def checkpoint_wal(self, min_bytes: int = 0) -> tuple[int, int]:
        """Copy committed WAL pages into the store file without waiting on readers (PASSIVE),
        if the WAL holds at least ``min_bytes``; returns (pages in the WAL, pages copied), (0, 0)
        when skipped. Durability does not depend on it: every commit is already fsynced to the
        WAL."""
        if min_bytes > 0:
            try:
                size = os.stat(f"{self.path}-wal").st_size
            except FileNotFoundError:
                return 0, 0
            if size < min_bytes:
                return 0, 0
        with self._locked() as conn:
            if self._depth:
                raise StateError(f"state store {self.path}: cannot checkpoint the WAL inside a transaction")
            try:
                _busy, pages, copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            except sqlite3.Error as exc:
                raise map_error(self.path, exc, "checkpointing the WAL") from exc
        return int(pages), int(copied)

    def sync(self) -> None:
        """Make every commit so far durable (fsync the WAL): with ``synced_commits=False`` a
        commit reaches the operating system at once (it survives the process dying) and the disk
        here. It takes no lock: commits go on while the disk works (frames of a transaction still
        being written are ignored by recovery until its commit frame is on disk too)."""
        try:
            fd = os.open(f"{self.path}-wal", os.O_RDONLY)
        except FileNotFoundError:  # folded into the store file, which a checkpoint syncs
            return
        try:
            os.fsync(fd)
        except OSError as exc:
            raise StateError(f"state store {self.path}: syncing the WAL to disk failed ({exc})") from exc
        finally:
            os.close(fd)

    def pragma(self, name: str, value: int | str | None = None) -> Any:
        """Read (or set, for this connection) one pragma; for diagnostics and tests."""
        if not name.replace("_", "").isalnum():
            raise ValueError(f"not a pragma name: {name!r}")
        sql = f"PRAGMA {name}" if value is None else f"PRAGMA {name} = {value!r}"
        row = self.query_one(sql)
        return None if row is None else row[0]

    def backup(self, dest: Path) -> Path:
        dest = Path(dest)
        if dest.absolute() == self.path.absolute():
            raise ValueError(f"backup destination {dest} is the store itself")
        with self._locked() as conn:
            if self._depth:
                raise StateConflict(f"state store {self.path}: cannot back up inside a transaction")
            try:
                return backup_connection(conn, dest)
            except sqlite3.Error as exc:
                raise map_error(self.path, exc, f"backing up to {dest}") from exc
            except OSError as exc:
                raise StateError(f"state store {self.path}: backing up to {dest}: {exc}") from exc

    def close(self) -> None:
        with self._lock:
            if self._conn is None:
                return
            if self._depth:
                raise StateConflict(f"state store {self.path}: cannot close inside a transaction")
            conn, self._conn = self._conn, None
            try:
                conn.close()
            except sqlite3.Error as exc:
                raise map_error(self.path, exc, "closing") from exc

    @property
    def closed(self) -> bool:
        return self._conn is None


class Repo:
    """Base of the table repositories: the shared database and the store's clock."""

    def __init__(self, db: Database, now_text: Callable[[], str]) -> None:
        self._db = db
        self._now = now_text
