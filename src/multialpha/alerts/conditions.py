"""``Latch``: a condition that is fine or failing, reported only when it changes.

A gateway that refuses every order, or a feed that stays silent, is one problem: the latch
turns a stream of observations into one "failing" and, later, one "recovered".
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum


class Change(StrEnum):
    FAILING = "failing"
    RECOVERED = "recovered"


@dataclass(frozen=True)
class Transition:
    change: Change
    detail: str  # what the first failing observation said (for RECOVERED: the same)
    failures: int  # failing observations in the episode (1 for FAILING)
    down_secs: float  # for RECOVERED: how long it was failing; 0.0 for FAILING


class Latch:
    """``observe(failing=...)`` returns a Transition on the first failure after fine, and on the
    first fine after failing; None otherwise. Thread-safe."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._since: float | None = None  # failing since; None while fine
        self._failures = 0
        self._detail = ""

    @property
    def failing(self) -> bool:
        with self._lock:
            return self._since is not None

    def observe(self, *, failing: bool, detail: str = "") -> Transition | None:
        with self._lock:
            now = self._clock()
            if failing:
                self._failures += 1
                if self._since is not None:
                    return None
                self._since, self._detail = now, detail
                return Transition(Change.FAILING, detail, 1, 0.0)
            if self._since is None:
                return None
            down, failures = now - self._since, self._failures
            self._since, self._failures = None, 0
            return Transition(Change.RECOVERED, self._detail, failures, down)
