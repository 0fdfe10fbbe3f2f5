"""One daemon per state store: an exclusive lock file beside it."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from multialpha.errors import StateError


def lock_path(state_path: Path) -> Path:
    return state_path.with_name(state_path.name + ".lock")


def state_path_problem(state_path: Path) -> str | None:
    """Why the daemon could not keep its state at ``state_path`` (it needs to write the store,
    its -wal/-shm files and the lock file beside it), or None."""
    if state_path.exists():
        if not state_path.is_file():
            return f"state store {state_path}: is not a regular file"
        if not os.access(state_path, os.R_OK | os.W_OK):
            return f"state store {state_path}: is not readable and writable by this user"
        if not os.access(state_path.parent, os.W_OK | os.X_OK):
            return (f"state store {state_path}: its directory is not writable by this user (the store's "
                    "-wal, -shm and lock files live beside it)")
        return None
    ancestor = state_path.parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        return f"state store {state_path}: cannot be created: {ancestor} is not a directory"
    if not os.access(ancestor, os.W_OK | os.X_OK):
        return f"state store {state_path}: cannot be created: {ancestor} is not writable by this user"
    return None


class DaemonLock:
    """Held for the daemon's whole life; the OS releases it when the process dies, even on kill -9."""

    def __init__(self, state_path: Path) -> None:
        self.state_path = state_path
        self.path = lock_path(state_path)
        self._fd: int | None = None

    def acquire(self) -> None:
        problem = state_path_problem(self.state_path)
        if problem is not None:
            raise StateError(problem)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise StateError(f"{self.path}: cannot create the daemon's lock file ({exc.strerror})") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise StateError(f"{self.path}: another multialpha daemon (pid {holder(self.path)}) is using this "
                             "state store") from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def holder(lock_file: Path) -> int | None:
    """The pid of the daemon holding ``lock_file``, or None if no daemon holds it."""
    try:
        fd = os.open(lock_file, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            text = lock_file.read_text().strip()
            return int(text) if text.isdigit() else -1
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)
