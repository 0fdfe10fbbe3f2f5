"""Ahead-of-use numba compilation shared by the feature engine and the compiled forest."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from numba import njit

log = logging.getLogger(__name__)


def kernel(signature: Any, **options: Any) -> Callable[[Any], Any]:
    """Compile now for ``signature`` (never on a first live call), cached on disk when possible.

    Numba refuses ``cache=True`` when neither the package directory nor a user cache directory
    is writable (read-only install, service without a home); compile in memory then rather than
    fail the import. ``NUMBA_CACHE_DIR`` chooses where the cache goes.
    """
    def wrap(fn: Any) -> Any:
        try:
            return njit(signature, cache=True, **options)(fn)
        except RuntimeError as exc:
            if "cannot cache" not in str(exc):
                raise
            log.warning("numba_cache_unavailable function=%s: compiling in memory (%s)", fn.__name__, exc)
            return njit(signature, **options)(fn)
    return wrap
