"""Exceptions, grouped by what should happen next.

* ``FatalError``: the process must not go on (bad config, corrupted state). ``main`` maps it
  to an exit code systemd will not restart blindly.
* ``WorkerError``: one strategy worker cannot start or go on (bad bundle, bad data file);
  the other workers keep running unless ``--fail-fast``.

Every message names the file, field or symbol it is about.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


class MultialphaError(Exception):
    """Base of every error this package raises on purpose."""


class FatalError(MultialphaError):
    """Stop the process."""

    exit_code = 78  # EX_CONFIG: systemd's RestartPreventExitStatus can name it


class ConfigError(FatalError):
    """A configuration file or value is invalid."""

    def __init__(self, message: str, *, file: str | Path | None = None, key: str | None = None,
                 value: Any = None, show_value: bool = False) -> None:
        parts = []
        if file is not None:
            parts.append(str(file))
        if key:
            parts.append(key)
        where = ": ".join(parts)
        text = f"{where}: {message}" if where else message
        if show_value:
            text += f" (got {value!r})"
        super().__init__(text)
        self.file = None if file is None else str(file)
        self.key = key


class StateError(FatalError):
    """The state store is unusable (corrupt, locked, full); refusing to guess."""

    exit_code = 75  # EX_TEMPFAIL


class UsageError(MultialphaError):
    """A command was asked for something that does not exist (a typo in a name or id)."""

    exit_code = 64  # EX_USAGE


class IllegalTransition(MultialphaError, ValueError):
    """A lifecycle change its transition table does not allow (a programming or state error)."""


class WorkerError(MultialphaError):
    """One strategy worker cannot start or continue."""


class BundleError(WorkerError):
    """A model bundle is missing, tampered with or inconsistent."""

    def __init__(self, symbol: str, file: str | Path, message: str) -> None:
        super().__init__(f"{symbol}: {file}: {message}")
        self.symbol = symbol
        self.file = str(file)


class DataError(WorkerError):
    """A bar file or a live bar is invalid."""
