"""SHA-256 of model files: a model file is trusted only if its hash matches its bundle's."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

from ..errors import BundleError

_CHUNK = 1 << 20
SHA256_HEX = re.compile(r"[0-9a-f]{64}")


def sha256_file(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_verified(symbol: str, path: Path, expected: str | None) -> tuple[bytes, str]:
    """The file's bytes and their SHA-256, refusing them if they do not hash to ``expected``.

    The bytes are read once and the caller unpickles exactly those bytes, so the file cannot
    be swapped between the check and the load. ``expected=None`` skips the comparison (the
    caller decides whether an unverified model is acceptable).
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise BundleError(symbol, path, "model file not found") from None
    except OSError as exc:
        raise BundleError(symbol, path, f"cannot read model file: {exc.strerror or exc}") from None
    actual = sha256_bytes(data)
    if expected is not None and actual != expected.lower():
        raise BundleError(
            symbol, path,
            f"SHA-256 mismatch: file hashes to {actual}, bundle records {expected}; refusing to unpickle",
        )
    return data, actual


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so readers see the old file or the new one, never a torn one."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
